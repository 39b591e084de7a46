#!/usr/bin/env node
// `npm run screenshots`: the console's main views at 1440x900, as PNGs in screenshots/ (git-ignored),
// from a server of its own with a few jobs in it: the job list, a job's DAG, an instance's log while it
// is written, and the designer with a three-task DAG drawn.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startShoal } from '@shoal/server';
import { ShoalClient } from '@shoal/sdk';
import { launchBrowser, signInLink } from '../packages/server/dist/test/browser.js';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'screenshots');
mkdirSync(out, { recursive: true });
const dataDir = mkdtempSync(join(tmpdir(), 'shoal-screenshots-'));
const shoal = await startShoal({ dataDir, port: 0, slots: 2, logLevel: 'error', sandbox: 'off' });
const browser = await launchBrowser();
try {
  const { AccessKeyId, AccessKeySecret } = shoal.credentials;
  const client = new ShoalClient({
    endpoint: shoal.url,
    accessKeyId: AccessKeyId,
    accessKeySecret: AccessKeySecret,
  });
  const task = (command, count = 1) => ({
    InstanceCount: count,
    MaxRetryCount: 0,
    Timeout: 600,
    AutoCluster: { ImageId: 'img-ubuntu', InstanceType: 'shoal.local' },
    Parameters: { Command: { CommandLine: command, PackagePath: '', EnvVars: {} } },
  });
  const job = (name, tasks, dependencies = {}) => ({
    Name: name,
    Priority: 1,
    Type: 'DAG',
    JobFailOnInstanceFail: true,
    DAG: { Tasks: tasks, Dependencies: dependencies },
  });
  const done = await client.createJob(job('nightly-report', { run: task('/bin/echo ok', 20) }));
  await client.waitForJob(done.Id);
  const failing = await client.createJob(job('bad-input', { parse: task("/bin/sh -c 'exit 3'") }));
  await client.waitForJob(failing.Id);
  const slow =
    '/bin/sh -c \'for i in $(seq 1 40); do echo "$(date +%T) processed chunk $i"; sleep 0.5; done\'';
  const live = await client.createJob(
    job(
      'log-count',
      { split: task('/bin/echo split'), count: task(slow, 3), merge: task('/bin/echo merged') },
      { split: ['count'], count: ['merge'] },
    ),
  );
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(signInLink(shoal.url, shoal.credentials));
  await page.getByRole('heading', { name: 'Jobs' }).waitFor();
  await page.locator(`[data-job="${live.Id}"] [data-state="Running"]`).waitFor({ timeout: 30_000 });
  await page.screenshot({ path: join(out, 'jobs.png') });
  await page.goto(`${shoal.url}/console/#/jobs/${live.Id}`);
  await page.locator('[data-testid="dag"] [data-task="count"][data-state="Running"]').waitFor();
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(out, 'dag.png') });
  await page.goto(`${shoal.url}/console/#/jobs/${live.Id}/tasks/count?instance=0`);
  await page
    .getByTestId('log-text')
    .getByText(/chunk 4/)
    .waitFor({ timeout: 20_000 });
  await page.screenshot({ path: join(out, 'log.png') });
  await page.goto(`${shoal.url}/console/#/submit/designer`);
  const panel = page.getByTestId('task-panel');
  for (const [name, command, count] of [
    ['split', '/bin/echo split', 1],
    ['count', 'python3 count.py', 3],
    ['merge', '/bin/echo merged', 1],
  ]) {
    await page.getByRole('button', { name: /Add task/ }).click();
    await panel.getByLabel('Name').fill(name);
    await panel.getByLabel('Command line').fill(command);
    await panel.getByLabel('Instances').fill(String(count));
  }
  const handle = (t, side) =>
    page.locator(`[data-testid="designer-canvas"] [data-task="${t}"] .react-flow__handle-${side}`);
  await handle('split', 'right').dragTo(handle('count', 'left'));
  await handle('count', 'right').dragTo(handle('merge', 'left'));
  await page.locator('[data-task="count"]').click();
  await page.screenshot({ path: join(out, 'designer.png') });
  console.log(
    `wrote ${['jobs', 'dag', 'log', 'designer'].map((n) => join('screenshots', `${n}.png`)).join(', ')}`,
  );
} finally {
  await browser.close();
  await shoal.close();
  rmSync(dataDir, { recursive: true, force: true });
}
