#!/usr/bin/env node
/**
 * Console responsiveness: how long the job list and a task's instance page take to show their first rows
 * in a real browser (Debian's Chromium), on a server holding --jobs jobs and one task of --instances
 * instances, beside the same pages on a server holding one job of one instance (the baseline), measured in
 * the same run. Target (issue 10): <= 300 ms for both with 10,000 jobs and a 1,000,000-instance task.
 * Each figure is from the navigation to the rows being on screen, median of --samples loads.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startShoal } from '@shoal/server';
import { ShoalClient } from '@shoal/sdk';
import { launchBrowser, signInLink } from '../packages/server/dist/test/browser.js';
import { jobOf, parseOptions, runMain, trueTask } from './lib/common.mjs';
import { fixed, median } from './lib/stats.mjs';

const USAGE = `usage: node bench/console.mjs [--jobs N] [--instances N] [--samples N]
  --jobs N       jobs on the server (default 10000)
  --instances N  instances of the big task (default 1000000)
  --samples N    page loads per figure (default 5)`;
const TARGET_MS = 300;

async function measure(options, jobs, instances) {
  const dataDir = mkdtempSync(join(tmpdir(), 'shoal-bench-console-'));
  const quotasFile = join(dataDir, 'quotas.json');
  writeFileSync(quotasFile, JSON.stringify({ Default: { Jobs: jobs + 10 } }));
  // No worker: what is submitted stays Waiting, so the pages show the same thing on every load.
  const shoal = await startShoal({
    dataDir,
    port: 0,
    slots: 0,
    logLevel: 'error',
    maxInstancesPerJob: Math.max(instances, 1),
    quotasFile,
  });
  const browser = await launchBrowser();
  try {
    const { AccessKeyId, AccessKeySecret } = shoal.credentials;
    const client = new ShoalClient({
      endpoint: shoal.url,
      accessKeyId: AccessKeyId,
      accessKeySecret: AccessKeySecret,
    });
    const big = await client.createJob(jobOf('big', { task: trueTask(instances) }));
    let made = 1;
    const worker = async () => {
      while (made < jobs) {
        made++;
        await client.createJob(jobOf(`job-${made}`, { task: trueTask(1) }));
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(signInLink(shoal.url, shoal.credentials));
    await page.locator('[data-job]').first().waitFor();
    const time = async (hash, selector) => {
      const samples = [];
      for (let i = 0; i < options.samples; i++) {
        await page.goto('about:blank');
        const started = performance.now();
        await page.goto(`${shoal.url}/console/${hash}`);
        await page.locator(selector).first().waitFor();
        samples.push(performance.now() - started);
      }
      return median(samples);
    };
    return {
      listMs: await time('#/jobs', '[data-job]'),
      taskMs: await time(`#/jobs/${big.Id}/tasks/task`, '[data-instance]'),
      lastPageMs: await time(`#/jobs/${big.Id}/tasks/task?instance=${instances - 1}`, '[data-instance]'),
    };
  } finally {
    await browser.close();
    await shoal.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  const options = parseOptions(USAGE, {
    jobs: { default: 10_000 },
    instances: { default: 1_000_000 },
    samples: { default: 5 },
  });
  const baseline = await measure(options, 1, 1);
  const loaded = await measure(options, options.jobs, options.instances);
  const row = (what, key) =>
    `  ${what.padEnd(34)} ${fixed(loaded[key], 0).padStart(6)} ms   (baseline ${fixed(baseline[key], 0)} ms; target <= ${TARGET_MS}: ${loaded[key] <= TARGET_MS ? 'met' : 'MISSED'})`;
  console.log(
    `console: ${options.jobs} jobs, a task of ${options.instances} instances; median of ${options.samples} loads`,
  );
  console.log(row('job list, first rows', 'listMs'));
  console.log(row('task page, first instances', 'taskMs'));
  console.log(row('task page with an instance log open', 'lastPageMs'));
}

runMain(main);
