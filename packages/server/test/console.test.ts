/**
 * The web console in a real browser (Debian's Chromium through playwright-core) against a real server:
 * sign in with the printed link, draw and submit the log-count DAG in the designer, watch it turn green,
 * read a log while it is written, restart only what failed, stop and delete, switch to Chinese.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserUnavailable, launchBrowser, signInLink } from './browser.js';
import { startTestShoal, type TestShoal, until } from './helpers.js';

const unavailable = browserUnavailable();
if (unavailable && process.env.SHOAL_TEST_REQUIRE_BROWSER)
  throw new Error(`SHOAL_TEST_REQUIRE_BROWSER is set but ${unavailable}`);
if (unavailable) console.warn(`SKIPPING the console's browser tests: ${unavailable}`);

let shoal: TestShoal;
let browser: Browser;
let page: Page;

before(async () => {
  if (unavailable) return;
  shoal = await startTestShoal();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('dialog', (dialog) => void dialog.accept());
});
after(async () => {
  await browser?.close();
  await shoal?.cleanup();
});

const opts = { skip: unavailable ? `no browser: ${unavailable}` : false, timeout: 120_000 };

async function instance(jobId: string, task: string, n: number) {
  return (await shoal.api('GET', `/jobs/${jobId}/tasks/${task}/instances/${n}`)).json;
}

function jobIdOf(url: string): string {
  const id = /#\/jobs\/(job-[0-9A-Za-z]+)/.exec(url)?.[1];
  assert.ok(id, `a job page: ${url}`);
  return id;
}

test(
  'signs in with the printed link, which leaves the address bar; an empty list says what to do',
  opts,
  async () => {
    await page.goto(signInLink(shoal.url, shoal.credentials));
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    assert.doesNotMatch(page.url(), /secret/);
    await page.getByText('No jobs yet.').waitFor();
  },
);

test(
  'designer: three tasks, two edges, count x3; the DAG turns green and a log streams while it runs',
  opts,
  async () => {
    await page.goto(`${shoal.url}/console/#/submit/designer`);
    const panel = page.getByTestId('task-panel');
    const tasks = [
      ['split', '/bin/echo split', 1],
      ['count', "/bin/sh -c 'for i in 1 2 3 4 5 6 7 8; do echo line $i; sleep 0.5; done'", 3],
      ['merge', '/bin/echo merged', 1],
    ] as const;
    for (const [name, command, count] of tasks) {
      await page.getByRole('button', { name: /Add task/ }).click();
      await panel.getByLabel('Name').fill(name);
      await panel.getByLabel('Command line').fill(command);
      await panel.getByLabel('Instances').fill(String(count));
    }
    const canvas = page.getByTestId('designer-canvas');
    const handle = (task: string, side: 'left' | 'right') =>
      canvas.locator(`[data-task="${task}"] .react-flow__handle-${side}`);
    await handle('split', 'right').dragTo(handle('count', 'left'));
    await handle('count', 'right').dragTo(handle('merge', 'left'));
    const preview = JSON.parse((await page.getByTestId('preview').textContent()) ?? '{}');
    assert.deepEqual(preview.DAG.Dependencies, { split: ['count'], count: ['merge'] });
    assert.equal(preview.DAG.Tasks.count.InstanceCount, 3);
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.getByTestId('dag').waitFor();
    const jobId = jobIdOf(page.url());

    // The log of count.0, opened while it runs: lines appear before the instance ends.
    await page
      .locator('[data-testid="dag"] [data-task="count"][data-state="Running"]')
      .waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="dag"] [data-task="count"]').click();
    await page.locator('[data-instance="0"]').click();
    const log = page.getByTestId('log-text');
    await log.getByText(/line 1/).waitFor({ timeout: 15_000 });
    assert.equal((await instance(jobId, 'count', 0)).State, 'Running', 'the log was shown while it ran');
    await log.getByText(/line 8/).waitFor({ timeout: 15_000 });

    await page.getByRole('link', { name: 'Back to the job' }).click();
    for (const task of ['split', 'count', 'merge'])
      await page
        .locator(`[data-testid="dag"] [data-task="${task}"][data-state="Finished"]`)
        .waitFor({ timeout: 30_000 });
    assert.equal((await shoal.api('GET', `/jobs/${jobId}`)).json.State, 'Finished');
  },
);

test(
  'JSON editor: an error points at its field; restart re-runs only the failed instance',
  opts,
  async () => {
    await page.goto(`${shoal.url}/console/#/submit/json`);
    const editor = page.getByLabel('JSON');
    const description = (count: number) => ({
      Name: 'one-fails',
      Priority: 1,
      Type: 'DAG',
      JobFailOnInstanceFail: true,
      DAG: {
        Tasks: {
          task: {
            InstanceCount: count,
            MaxRetryCount: 0,
            Timeout: 60,
            AutoCluster: { ImageId: 'img-ubuntu', InstanceType: 'shoal.local' },
            Parameters: {
              Command: {
                CommandLine: "/bin/sh -c 'test $BATCH_COMPUTE_DAG_INSTANCE_ID = 0 || (sleep 1; exit 3)'",
                PackagePath: '',
                EnvVars: {},
              },
            },
          },
        },
        Dependencies: {},
      },
    });
    await editor.fill(JSON.stringify(description(0), null, 2));
    await page.getByRole('button', { name: 'Submit job' }).click();
    const error = page.locator('[data-field="DAG.Tasks.task.InstanceCount"]');
    await error.waitFor();
    assert.match((await error.textContent()) ?? '', /InstanceCount is not valid/);
    // The offending key is selected in the editor.
    const selected = await editor.evaluate((el) => {
      const area = el as unknown as { value: string; selectionStart: number; selectionEnd: number };
      return area.value.slice(area.selectionStart, area.selectionEnd);
    });
    assert.equal(selected, '"InstanceCount"');

    await editor.fill(JSON.stringify(description(2), null, 2));
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.getByTestId('dag').waitFor();
    const jobId = jobIdOf(page.url());
    await shoal.waitForJob(jobId);
    await page.getByRole('button', { name: 'Restart' }).click();
    await until('the restarted attempt ran', async () =>
      (await instance(jobId, 'task', 1)).AttemptCount === 2 ? true : undefined,
    );
    await shoal.waitForJob(jobId);
    assert.equal((await instance(jobId, 'task', 0)).AttemptCount, 1, 'the finished instance kept its result');
    assert.equal((await instance(jobId, 'task', 0)).State, 'Finished');
  },
);

test('stops and deletes a job from its page, after asking', opts, async () => {
  await page.goto(`${shoal.url}/console/#/submit/form`);
  await page.getByLabel('Command line').fill('/bin/sleep 30');
  await page.getByRole('button', { name: 'Submit job' }).click();
  await page.getByTestId('dag').waitFor();
  const jobId = jobIdOf(page.url());
  await page.getByRole('button', { name: 'Stop' }).click();
  await page.locator('h1 [data-state="Stopped"]').waitFor({ timeout: 20_000 });
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('heading', { name: 'Jobs' }).waitFor();
  assert.equal((await shoal.api('GET', `/jobs/${jobId}`)).status, 404);
  assert.equal(await page.locator(`[data-job="${jobId}"]`).count(), 0);
});

test('searches jobs by name on the server, and by id', opts, async () => {
  await page.goto(`${shoal.url}/console/#/jobs`);
  await page.locator('[data-job]').first().waitFor();
  const search = page.getByLabel('Search by name or ID');
  await search.fill('FAILS');
  await until('only the matching job is listed', async () => {
    const names = await page.locator('[data-job] td:first-child a').allTextContents();
    return names.length === 1 && names[0] === 'one-fails' ? true : undefined;
  });
  const id = (await page.locator('[data-job]').first().getAttribute('data-job'))!;
  await search.fill('no such job');
  await page.getByText('No job matches this search or state.').waitFor();
  await search.fill(id);
  await page.locator(`[data-job="${id}"]`).waitFor();
  await search.fill('');
});

test('switches to Chinese and remembers it', opts, async () => {
  await page.getByRole('button', { name: '中文' }).click();
  await page.getByRole('link', { name: '作业' }).first().waitFor();
  await page.reload();
  await page.getByRole('heading', { name: '作业' }).waitFor();
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Jobs' }).waitFor();
});
