#!/usr/bin/env node
/**
 * Scale: one task of a million instances through one server on the embedded defaults (SQLite, 2 slots),
 * with a probe `GET /jobs/{id}` every 20 ms throughout, the server's RSS sampled, and the drain rate
 * measured beside a baseline job of 10,000 instances in the same server and the same run.
 *
 * Per run, in order: the baseline drains for --drain-seconds, is stopped and deleted; the big job is
 * submitted, drains as long, is stopped and deleted; a job of --huge instances is submitted, stopped and
 * deleted. Targets (issue 9): accepted <= 500 ms, every probe <= 50 ms, RSS <= 300 MB, stop <= 1 s,
 * drain rate with 1M queued >= 0.9 x the rate with 10k queued, the 10M job accepted.
 */
import { readFileSync } from 'node:fs';
import { jobOf, parseOptions, runMain, sleep, trueTask } from './lib/common.mjs';
import { startBenchServer } from './lib/server.mjs';
import { fixed, median, percentile } from './lib/stats.mjs';

const USAGE = `usage: node bench/scale.mjs [--instances N] [--baseline N] [--huge N] [--drain-seconds S] [--runs R] [--json]
  --instances N      instances of the big job (default 1000000)
  --baseline N       instances of the baseline job whose drain rate the big job's is held against (default 10000)
  --huge N           instances of the job that is only submitted, stopped and deleted (default 10000000; 0 skips)
  --drain-seconds S  how long each drain rate is measured, after a second of warm-up (default 6)
  --runs R           repeat R times and report medians and ranges (default 3)
  --json             print one JSON document instead of text`;

const TARGETS = Object.freeze({
  acceptMs: 500,
  probeMaxMs: 50,
  rssMb: 300,
  stopMs: 1000,
  drainRatio: 0.9,
});
const PROBE_EVERY_MS = 20;
const RSS_EVERY_MS = 50;

/** Sends `GET /jobs/{id}` every PROBE_EVERY_MS (or right after the last answer, if that took longer). */
class Probe {
  constructor(client, jobId) {
    this.client = client;
    this.jobId = jobId;
    this.samples = [];
    this.phase = 'idle';
    this.byPhase = new Map();
  }

  start() {
    this.running = (async () => {
      while (!this.stopped) {
        const sent = performance.now();
        // A probe belongs to the phase it was sent in.
        const phase = this.phase;
        try {
          await this.client.getJob(this.jobId);
        } catch (err) {
          if (this.stopped) break;
          this.error ??= err;
        }
        const ms = performance.now() - sent;
        const list = this.byPhase.get(phase) ?? [];
        list.push(ms);
        this.byPhase.set(phase, list);
        await sleep(Math.max(0, PROBE_EVERY_MS - ms));
      }
    })();
  }

  async stop() {
    this.stopped = true;
    await this.running;
    // A probe that got no answer is a failed measurement, not a slow one.
    if (this.error) throw this.error;
  }

  /** The worst and the 99th-percentile answer time of a phase, in ms. */
  of(phase) {
    const list = this.byPhase.get(phase) ?? [];
    if (list.length === 0) return { n: 0, max: NaN, p99: NaN };
    return { n: list.length, max: Math.max(...list), p99: percentile(list, 0.99) };
  }
}

/** The server's resident set, sampled from /proc every RSS_EVERY_MS; the peak in MB. */
function sampleRss(pid) {
  let peak = 0;
  const read = () => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      peak = Math.max(peak, kb / 1024);
    } catch {
      // The server is gone: the peak stays what it was.
    }
  };
  read();
  const timer = setInterval(read, RSS_EVERY_MS);
  return {
    stop() {
      clearInterval(timer);
      read();
      return peak;
    },
  };
}

async function waitState(client, jobId, states, timeoutMs = 60_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const job = await client.getJob(jobId);
    if (states.includes(job.State)) return job;
    if (performance.now() > deadline)
      throw new Error(`job ${jobId} still ${job.State} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * Instances finished per second over `seconds`, after one second of warm-up. A job that finishes inside
 * the window is measured up to its last sample before the end.
 */
async function drainRate(client, jobId, seconds) {
  await waitState(client, jobId, ['Running']);
  await sleep(1000);
  const first = { t: performance.now(), n: (await client.getJob(jobId)).InstanceMetrics.FinishedCount };
  let last = first;
  const end = first.t + seconds * 1000;
  while (performance.now() < end) {
    await sleep(250);
    const job = await client.getJob(jobId);
    if (job.State !== 'Running') break;
    last = { t: performance.now(), n: job.InstanceMetrics.FinishedCount };
  }
  if (last.t - first.t < 1000) throw new Error(`job ${jobId} ended before its drain rate could be measured`);
  return (last.n - first.n) / ((last.t - first.t) / 1000);
}

async function timed(fn) {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

async function oneRun(options) {
  const server = await startBenchServer({
    slots: 2,
    args: ['--max-instances-per-job', String(Math.max(options.instances, options.huge, options.baseline))],
  });
  let probe;
  try {
    const { client } = server;
    const probeJob = (await client.createJob(jobOf('bench-scale-probe', { probe: trueTask(1) }))).Id;
    await waitState(client, probeJob, ['Finished']);
    probe = new Probe(client, probeJob);
    const rss = sampleRss(server.pid);
    probe.start();
    const result = {};

    probe.phase = 'baseline';
    const base = (await client.createJob(jobOf('bench-scale-baseline', { run: trueTask(options.baseline) })))
      .Id;
    result.baselineRate = await drainRate(client, base, options.drainSeconds);
    await client.stopJob(base);
    await client.deleteJob(base);
    await sleep(1000);

    probe.phase = 'submit';
    const submit = await timed(() =>
      client.createJob(jobOf('bench-scale', { run: trueTask(options.instances) })),
    );
    result.acceptMs = submit.ms;
    const big = submit.value.Id;
    probe.phase = 'run';
    result.bigRate = await drainRate(client, big, options.drainSeconds);
    probe.phase = 'stop';
    result.stopMs = (await timed(() => client.stopJob(big))).ms;
    await sleep(1000);
    probe.phase = 'delete';
    result.deleteMs = (await timed(() => client.deleteJob(big))).ms;
    // The purge runs after the delete returned: keep probing while it works.
    await sleep(3000);

    if (options.huge > 0) {
      probe.phase = 'huge';
      const huge = await timed(() =>
        client.createJob(jobOf('bench-scale-huge', { run: trueTask(options.huge) })),
      );
      result.hugeAcceptMs = huge.ms;
      await waitState(client, huge.value.Id, ['Running']);
      result.hugeStopMs = (await timed(() => client.stopJob(huge.value.Id))).ms;
      result.hugeDeleteMs = (await timed(() => client.deleteJob(huge.value.Id))).ms;
      await sleep(2000);
    }
    await probe.stop();
    result.rssMb = rss.stop();
    result.probes = Object.fromEntries(
      ['baseline', 'submit', 'run', 'stop', 'delete', 'huge'].map((p) => [p, probe.of(p)]),
    );
    result.probeMaxMs = Math.max(
      ...['submit', 'run', 'stop', 'delete', 'huge'].map((p) => probe.of(p).max).filter(Number.isFinite),
    );
    result.drainRatio = result.bigRate / result.baselineRate;
    return result;
  } finally {
    if (probe && !probe.stopped) await probe.stop().catch(() => undefined);
    await server.stop();
  }
}

const range = (values, digits = 0) =>
  values.length === 0
    ? '– (no sample)'
    : `${fixed(median(values), digits)} [${fixed(Math.min(...values), digits)}–${fixed(Math.max(...values), digits)}]`;

async function main() {
  const options = parseOptions(USAGE, {
    instances: { default: 1_000_000 },
    baseline: { default: 10_000 },
    huge: { default: 10_000_000, min: 0 },
    'drain-seconds': { default: 6 },
    runs: { default: 3 },
    json: { flag: true },
  });
  options.drainSeconds = options['drain-seconds'];
  const runs = [];
  for (let i = 0; i < options.runs; i++) {
    const run = await oneRun(options);
    runs.push(run);
    if (!options.json)
      process.stdout.write(
        `run ${i + 1}: accepted ${fixed(run.acceptMs, 0)} ms, stop ${fixed(run.stopMs, 0)} ms, delete ${fixed(run.deleteMs, 0)} ms, ` +
          `drain ${fixed(run.bigRate, 0)}/s vs ${fixed(run.baselineRate, 0)}/s (${fixed(run.drainRatio, 2)}x), ` +
          `worst probe ${fixed(run.probeMaxMs, 1)} ms, RSS ${fixed(run.rssMb, 0)} MB` +
          (options.huge ? `, ${options.huge} accepted in ${fixed(run.hugeAcceptMs, 0)} ms` : '') +
          '\n',
      );
  }
  const col = (key) => runs.map((r) => r[key]);
  const summary = {
    acceptMs: median(col('acceptMs')),
    probeMaxMs: median(col('probeMaxMs')),
    rssMb: median(col('rssMb')),
    stopMs: median(col('stopMs')),
    drainRatio: median(col('drainRatio')),
  };
  const met = {
    acceptMs: Math.max(...col('acceptMs')) <= TARGETS.acceptMs,
    probeMaxMs: Math.max(...col('probeMaxMs')) <= TARGETS.probeMaxMs,
    rssMb: Math.max(...col('rssMb')) <= TARGETS.rssMb,
    stopMs: Math.max(...col('stopMs')) <= TARGETS.stopMs,
    drainRatio: summary.drainRatio >= TARGETS.drainRatio,
  };
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ options, targets: TARGETS, runs, summary, met }, null, 2)}\n`);
    return;
  }
  const mark = (ok) => (ok ? 'met' : 'MISSED');
  const lines = [
    '',
    `${options.runs} run(s); median [min–max]`,
    `  ${options.instances} instances accepted in   ${range(col('acceptMs'))} ms   (target <= ${TARGETS.acceptMs}: ${mark(met.acceptMs)})`,
    `  worst probe answer                ${range(col('probeMaxMs'), 1)} ms   (target <= ${TARGETS.probeMaxMs}: ${mark(met.probeMaxMs)})`,
    ...['submit', 'run', 'stop', 'delete', 'huge'].map(
      (p) =>
        `    during ${p.padEnd(8)} max ${range(
          runs.map((r) => r.probes[p].max).filter(Number.isFinite),
          1,
        )} ms, p99 ${range(runs.map((r) => r.probes[p].p99).filter(Number.isFinite), 1)} ms`,
    ),
    `  server RSS peak                   ${range(col('rssMb'))} MB   (target <= ${TARGETS.rssMb}: ${mark(met.rssMb)})`,
    `  stop                              ${range(col('stopMs'))} ms   (target <= ${TARGETS.stopMs}: ${mark(met.stopMs)})`,
    `  delete (returns; purge after)     ${range(col('deleteMs'))} ms`,
    `  drain rate, ${options.instances} queued      ${range(col('bigRate'))} /s`,
    `  drain rate, ${options.baseline} queued (baseline) ${range(col('baselineRate'))} /s`,
    `  ratio                             ${range(col('drainRatio'), 2)}   (target >= ${TARGETS.drainRatio}: ${mark(met.drainRatio)})`,
  ];
  if (options.huge)
    lines.push(
      `  ${options.huge} instances accepted in  ${range(col('hugeAcceptMs'))} ms, stopped in ${range(col('hugeStopMs'))} ms, deleted in ${range(col('hugeDeleteMs'))} ms`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);
}

runMain(main);
