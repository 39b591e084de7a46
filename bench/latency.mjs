#!/usr/bin/env node
/**
 * Latency: (a) single-instance /bin/true jobs submitted one after another: submit -> Running and
 * submit -> Finished as the server recorded them, and client wall time create -> Finished seen by polling;
 * (b) the per-level cost of a chain DAG t0 -> t1 -> ... of one /bin/true instance per task.
 * Baseline in the same run: one spawn of /bin/true from Node until its exit event.
 * Targets (issue): p50 submit -> Running <= 5 ms, p99 <= 25 ms, chain overhead <= 10 ms per level.
 */
import { cpus } from 'node:os';
import {
  assertFinished,
  jobOf,
  parseOptions,
  pollUntilDone,
  runMain,
  serverUs,
  timeSpawn,
  trueTask,
} from './lib/common.mjs';
import { startBenchServer } from './lib/server.mjs';
import { fixed, median, summarize } from './lib/stats.mjs';

const USAGE = `usage: node bench/latency.mjs [--jobs N] [--warmup N] [--levels N] [--baseline N] [--slots N] [--json]
  --jobs N       single-instance jobs measured one after another (default 200)
  --warmup N     jobs run first and not measured (default 5)
  --levels N     tasks in the chain DAG (default 10)
  --baseline N   spawns of /bin/true from Node for the baseline (default 50)
  --slots N      Shoal worker slots (default 2)
  --json         print one JSON document instead of text`;

const TARGET = Object.freeze({ p50RunningMs: 5, p99RunningMs: 25, chainOverheadPerLevelMs: 10 });
const POLL_MS = 2;
const JOB_TIMEOUT_MS = 30_000;

async function baseline(count) {
  await timeSpawn('/bin/true'); // the first spawn pays for loading; it is not what later runs cost
  const samples = [];
  for (let i = 0; i < count; i++) samples.push(await timeSpawn('/bin/true'));
  return summarize(samples);
}

/** Submits single-instance jobs one at a time; each is waited for before the next is submitted. */
async function sequentialJobs(client, count, warmup) {
  const running = [];
  const finished = [];
  const wall = [];
  for (let i = 0; i < warmup + count; i++) {
    const startedMs = performance.now();
    const { Id } = await client.createJob(jobOf(`bench-latency-${i}`, { run: trueTask(1) }));
    const { job, seenMs } = await pollUntilDone(client, Id, POLL_MS, JOB_TIMEOUT_MS);
    assertFinished(job);
    if (i < warmup) continue;
    const createdUs = serverUs(job.CreationTime, 'job CreationTime');
    running.push((serverUs(job.StartTime, 'job StartTime') - createdUs) / 1000);
    finished.push((serverUs(job.EndTime, 'job EndTime') - createdUs) / 1000);
    wall.push(seenMs - startedMs);
  }
  return { running: summarize(running), finished: summarize(finished), wall: summarize(wall) };
}

/** One chain job; the gaps are between a task's EndTime and its successor's StartTime. */
async function chain(client, levels) {
  const tasks = {};
  for (let i = 0; i < levels; i++) tasks[`t${i}`] = trueTask(1);
  const { Id } = await client.createJob(jobOf('bench-chain', tasks, true));
  const { job } = await pollUntilDone(client, Id, POLL_MS, JOB_TIMEOUT_MS);
  assertFinished(job);
  const byName = new Map();
  for await (const task of client.tasks(Id)) byName.set(task.TaskName, task);
  const gaps = [];
  for (let i = 0; i + 1 < levels; i++) {
    const before = byName.get(`t${i}`);
    const after = byName.get(`t${i + 1}`);
    if (!before || !after) throw new Error(`task t${i} or t${i + 1} missing from job ${Id}`);
    gaps.push(
      (serverUs(after.StartTime, `t${i + 1} StartTime`) - serverUs(before.EndTime, `t${i} EndTime`)) / 1000,
    );
  }
  const createdUs = serverUs(job.CreationTime, 'job CreationTime');
  const startUs = serverUs(job.StartTime, 'job StartTime');
  const endUs = serverUs(job.EndTime, 'job EndTime');
  return {
    levels,
    gapsMs: gaps,
    gapMedianMs: gaps.length ? median(gaps) : 0,
    gapMaxMs: gaps.length ? Math.max(...gaps) : 0,
    durationMs: (endUs - startUs) / 1000,
    perLevelMs: (endUs - startUs) / 1000 / levels,
    submitToEndPerLevelMs: (endUs - createdUs) / 1000 / levels,
  };
}

const row = (name, s) =>
  `  ${name.padEnd(40)}${[s.p50, s.p99, s.mean, s.max].map((v) => fixed(v, 2).padStart(9)).join('')}`;

function printReport(r) {
  console.log(`\nbaseline: spawn /bin/true from Node, ${r.baseline.n} runs (ms)`);
  console.log(`  ${''.padEnd(40)}${['p50', 'p99', 'mean', 'max'].map((h) => h.padStart(9)).join('')}`);
  console.log(row('spawn -> exit', r.baseline));
  console.log(`\n(a) ${r.sequential.running.n} single-instance jobs, one after another (ms)`);
  console.log(`  ${''.padEnd(40)}${['p50', 'p99', 'mean', 'max'].map((h) => h.padStart(9)).join('')}`);
  console.log(row('submit -> Running (server)', r.sequential.running));
  console.log(row('submit -> Finished (server)', r.sequential.finished));
  console.log(row(`create -> Finished (client, ${POLL_MS} ms poll)`, r.sequential.wall));
  console.log(
    `  (client wall time includes the HTTP round trips and up to ${POLL_MS} ms of polling granularity)`,
  );
  const c = r.chain;
  console.log(`\n(b) chain of ${c.levels} tasks, one /bin/true instance each (ms)`);
  console.log(
    `  gap EndTime -> successor StartTime       median ${fixed(c.gapMedianMs, 2)}, max ${fixed(c.gapMaxMs, 2)}`,
  );
  // StartTime is stamped when the worker claims the instance, and a report of an end and the next claim
  // may share one transaction; the per-level time below is then the honest cost of a level.
  console.log('  (task StartTime = claim time; an end report and the next claim may share one transaction)');
  console.log(
    `  job StartTime -> EndTime                 ${fixed(c.durationMs, 2)} = ${fixed(c.perLevelMs, 2)} per level`,
  );
  console.log(`  job CreationTime -> EndTime              ${fixed(c.submitToEndPerLevelMs, 2)} per level`);
  console.log(`  per level minus the baseline spawn       ${fixed(r.chainOverheadPerLevelMs, 2)} per level`);
  const m = r.met;
  console.log(
    `\ntarget: p50 submit -> Running <= ${TARGET.p50RunningMs} ms ${m.p50Running ? 'met' : 'NOT met'}; ` +
      `p99 <= ${TARGET.p99RunningMs} ms ${m.p99Running ? 'met' : 'NOT met'}; ` +
      `chain overhead <= ${TARGET.chainOverheadPerLevelMs} ms/level ${m.chainOverhead ? 'met' : 'NOT met'}`,
  );
}

async function main() {
  const options = parseOptions(USAGE, {
    jobs: { default: 200 },
    warmup: { default: 5, min: 0 },
    levels: { default: 10, min: 2 },
    baseline: { default: 50 },
    slots: { default: 2 },
    json: { flag: true },
  });
  if (!options.json)
    console.log(
      `latency: ${options.jobs} jobs, chain of ${options.levels}, ${options.slots} slots, ${cpus().length} CPUs, Node ${process.version}`,
    );
  const spawnBaseline = await baseline(options.baseline);
  const server = await startBenchServer({ slots: options.slots });
  let sequential;
  let chainResult;
  try {
    sequential = await sequentialJobs(server.client, options.jobs, options.warmup);
    chainResult = await chain(server.client, options.levels);
  } finally {
    await server.stop();
  }
  // What a level costs beyond running its command: the chain's per-level time less one /bin/true run.
  const chainOverheadPerLevelMs = chainResult.perLevelMs - spawnBaseline.p50;
  const met = {
    p50Running: sequential.running.p50 <= TARGET.p50RunningMs,
    p99Running: sequential.running.p99 <= TARGET.p99RunningMs,
    chainOverhead: chainOverheadPerLevelMs <= TARGET.chainOverheadPerLevelMs,
  };
  met.all = met.p50Running && met.p99Running && met.chainOverhead;
  const report = {
    benchmark: 'latency',
    date: new Date().toISOString(),
    cpus: cpus().length,
    node: process.version,
    slots: options.slots,
    pollMs: POLL_MS,
    baseline: spawnBaseline,
    sequential,
    chain: chainResult,
    chainOverheadPerLevelMs,
    target: TARGET,
    met,
  };
  if (options.json) console.log(JSON.stringify(report, null, 2));
  else printReport(report);
}

runMain(main);
