#!/usr/bin/env node
/**
 * Throughput: one task of N instances of /bin/true through Shoal, against the same N runs through
 * `xargs -P <slots>` measured in the same invocation (xargs first, then Shoal, alternating per run).
 * Target (issue): Shoal >= 600 instances/s and >= 0.35 x xargs, with 2 slots.
 *
 * With --sandbox, Shoal runs every instance in its sandbox, and a second baseline is measured: xargs
 * starting each /bin/true in a bubblewrap sandbox of its own, as the sandbox user (one bwrap run per
 * command, the namespaces and mounts an attempt gets). Target: >= 300/s and >= 1.3 x xargs-of-bwrap.
 *
 * With --agents N, each run also measures the same job on a `local` cluster of N agents (shoal agent
 * processes the server starts, one slot each, over the HTTP worker protocol), beside the embedded worker.
 */
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, readlinkSync } from 'node:fs';
import { cpus } from 'node:os';
import {
  assertFinished,
  jobOf,
  nowUs,
  parseOptions,
  pollUntilDone,
  runMain,
  serverUs,
  trueTask,
} from './lib/common.mjs';
import { killGroup, track } from './lib/cleanup.mjs';
import { startBenchServer } from './lib/server.mjs';
import { startTestPostgres } from '../packages/store/dist/src/testing.js';
import { fixed, median } from './lib/stats.mjs';

const USAGE = `usage: node bench/throughput.mjs [--instances N] [--slots N] [--runs R] [--sandbox] [--redirect] [--postgres] [--agents N] [--json]
  --instances N  runs of /bin/true per measurement (default 10000)
  --slots N      Shoal worker slots and xargs -P (default 2)
  --runs R       repeat R times (xargs then Shoal each time) and report medians (default 1)
  --sandbox      Shoal with its sandbox on, beside xargs and xargs of bwrap
  --redirect     every instance's stdout and stderr also go to objects (StdoutRedirectPath/StderrRedirectPath)
  --postgres     also run Shoal on PostgreSQL (a private server the benchmark starts), beside SQLite
  --agents N     also run the job on a local cluster of N agents (one slot each), beside the embedded worker
  --json         print one JSON document instead of text`;

const TARGETS = Object.freeze({
  plain: { minRate: 600, minRatio: 0.35, baseline: 'xargs' },
  sandbox: { minRate: 300, minRatio: 1.3, baseline: 'xargsBwrap' },
});
const SANDBOX_UID = 65534;
const POLL_MS = 50;

/** bwrap's arguments for one sandboxed /bin/true: what an attempt's sandbox holds. */
function bwrapCommand() {
  const args = ['--unshare-all', '--share-net', '--die-with-parent'];
  for (const dir of ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/opt']) {
    let st;
    try {
      st = lstatSync(dir);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else if (st.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  args.push('--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--chdir', '/', '/bin/true');
  return ['/usr/bin/bwrap', ...args];
}

/**
 * Seconds for `xargs -P slots` to run `command` once per input line; as the sandbox user when root
 * (bwrap started as root is no sandbox).
 */
function timeXargs(instances, slots, command = ['/bin/true']) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // -I{} makes xargs run one command per line without passing the line to the command. Its own process
    // group lets an interrupted benchmark stop xargs and the commands it started, and nothing else.
    const xargs = ['xargs', '-P', String(slots), '-I{}', ...command];
    const asUser =
      command.length > 1 && process.getuid?.() === 0
        ? ['setpriv', `--reuid=${SANDBOX_UID}`, `--regid=${SANDBOX_UID}`, '--clear-groups', ...xargs]
        : xargs;
    const child = spawn(asUser[0], asUser.slice(1), {
      stdio: ['pipe', 'ignore', 'inherit'],
      detached: true,
    });
    const exited = new Promise((resolve) => child.once('close', resolve));
    const untrack = track({
      stop: () => {
        killGroup(child.pid, 'SIGTERM');
        return exited;
      },
      killNow: () => killGroup(child.pid, 'SIGKILL'),
    });
    child.once('error', (err) => {
      untrack();
      reject(err);
    });
    child.once('exit', (code, signal) => {
      untrack();
      if (code !== 0) reject(new Error(`xargs exited with code ${code}, signal ${signal}`));
      else resolve((performance.now() - started) / 1000);
    });
    child.stdin.end('x\n'.repeat(instances));
  });
}

/** One Shoal measurement on a fresh server (its start-up is not timed). */
async function timeShoal(instances, slots, sandbox, redirect, databaseUrl) {
  const server = await startBenchServer({
    slots,
    sandbox: sandbox ? 'bwrap' : 'off',
    ...(databaseUrl ? { args: ['--database-url', databaseUrl] } : {}),
  });
  try {
    const task = trueTask(instances);
    if (redirect)
      Object.assign(task.Parameters, {
        StdoutRedirectPath: 'oss://bench/logs/',
        StderrRedirectPath: 'oss://bench/logs/',
      });
    const description = jobOf('bench-throughput', { run: task });
    const submittedUs = nowUs();
    const submittedMs = performance.now();
    const { Id } = await server.client.createJob(description);
    const timeoutMs = 60_000 + instances * 20;
    const { job, seenMs } = await pollUntilDone(server.client, Id, POLL_MS, timeoutMs);
    assertFinished(job);
    const endUs = serverUs(job.EndTime, 'job EndTime');
    const serverSeconds = (endUs - submittedUs) / 1e6;
    const wallSeconds = (seenMs - submittedMs) / 1000;
    return {
      serverSeconds,
      serverRate: instances / serverSeconds,
      wallSeconds,
      wallRate: instances / wallSeconds,
      createdToEndSeconds: (endUs - serverUs(job.CreationTime, 'job CreationTime')) / 1e6,
    };
  } finally {
    await server.stop();
  }
}

/**
 * The same job on a `local` cluster of `agents` agents that the server starts (no embedded worker); the
 * agents' start-up is not timed: the job is submitted once all of them heartbeat.
 */
async function timeShoalAgents(instances, agents, sandbox) {
  const server = await startBenchServer({ slots: 0, sandbox: sandbox ? 'bwrap' : 'off' });
  try {
    const { Id: clusterId } = await server.client.createCluster({
      Name: 'bench-agents',
      ImageId: 'img-ubuntu',
      InstanceType: 'shoal.local',
      Provider: 'local',
      Groups: { group: { DesiredVMCount: agents } },
    });
    const deadline = Date.now() + 60_000;
    while ((await server.client.getCluster(clusterId)).Groups.group.ActualVMCount < agents) {
      if (Date.now() > deadline) throw new Error(`${agents} local agents did not join within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const task = { ...trueTask(instances), ClusterId: clusterId, AutoCluster: {} };
    const submittedUs = nowUs();
    const { Id } = await server.client.createJob(jobOf('bench-throughput-agents', { run: task }));
    const { job } = await pollUntilDone(server.client, Id, POLL_MS, 60_000 + instances * 20);
    assertFinished(job);
    const serverSeconds = (serverUs(job.EndTime, 'job EndTime') - submittedUs) / 1e6;
    return { serverSeconds, serverRate: instances / serverSeconds };
  } finally {
    await server.stop();
  }
}

function printRun(index, runs, result) {
  const { xargs, xargsBwrap, shoal, ratio } = result;
  const bwrap = xargsBwrap
    ? `xargs of bwrap ${fixed(xargsBwrap.rate, 0)}/s (${fixed(xargsBwrap.seconds, 2)} s) | `
    : '';
  console.log(
    `run ${index + 1}/${runs}: xargs ${fixed(xargs.rate, 0)}/s (${fixed(xargs.seconds, 2)} s) | ${bwrap}` +
      `shoal ${fixed(shoal.serverRate, 0)}/s (${fixed(shoal.serverSeconds, 2)} s to server EndTime), ` +
      `${fixed(shoal.wallRate, 0)}/s (${fixed(shoal.wallSeconds, 2)} s wall until poll saw Finished) | ` +
      `ratio ${fixed(ratio, 3)}` +
      (result.agents
        ? ` | local cluster of agents ${fixed(result.agents.serverRate, 0)}/s (${fixed(result.agents.serverSeconds, 2)} s)`
        : '') +
      (result.postgres
        ? ` | on PostgreSQL ${fixed(result.postgres.serverRate, 0)}/s (${fixed(result.postgresRatio, 2)} x SQLite)`
        : ''),
  );
}

async function main() {
  const options = parseOptions(USAGE, {
    instances: { default: 10_000 },
    slots: { default: 2 },
    runs: { default: 1 },
    sandbox: { flag: true },
    redirect: { flag: true },
    postgres: { flag: true },
    agents: { default: 0, min: 0 },
    json: { flag: true },
  });
  const { instances, slots, runs, sandbox, redirect, postgres, agents } = options;
  // PostgreSQL: a private server for the whole benchmark, a fresh database per run.
  const pg = postgres ? await startTestPostgres() : undefined;
  const TARGET = sandbox ? TARGETS.sandbox : TARGETS.plain;
  const log = options.json ? () => undefined : (line) => console.log(line);
  log(
    `throughput: ${instances} x /bin/true, ${slots} slots, ${runs} run(s), sandbox ${sandbox ? 'on' : 'off'}, ` +
      `stdout/stderr to objects ${redirect ? 'on' : 'off'}, ` +
      `${cpus().length} CPUs, Node ${process.version}`,
  );

  const results = [];
  const settleFilesystem = () => spawnSync('sync', { stdio: 'ignore' });
  try {
    for (let i = 0; i < runs; i++) {
      // Each Shoal run leaves tens of thousands of files (logs) that its cleanup deletes; let the kernel
      // write that back before measuring again, so no run pays for the one before it.
      settleFilesystem();
      const seconds = await timeXargs(instances, slots);
      const xargs = { seconds, rate: instances / seconds };
      let xargsBwrap;
      if (sandbox) {
        const bwrapSeconds = await timeXargs(instances, slots, bwrapCommand());
        xargsBwrap = { seconds: bwrapSeconds, rate: instances / bwrapSeconds };
      }
      const shoal = await timeShoal(instances, slots, sandbox, redirect);
      const onPostgres = pg
        ? await timeShoal(instances, slots, sandbox, redirect, await pg.createDatabase())
        : undefined;
      const onAgents = agents > 0 ? await timeShoalAgents(instances, agents, sandbox) : undefined;
      const base = sandbox ? xargsBwrap : xargs;
      const result = {
        xargs,
        ...(xargsBwrap ? { xargsBwrap } : {}),
        shoal,
        ...(onAgents ? { agents: onAgents } : {}),
        ...(onPostgres
          ? { postgres: onPostgres, postgresRatio: onPostgres.serverRate / shoal.serverRate }
          : {}),
        ratio: shoal.serverRate / base.rate,
      };
      results.push(result);
      if (!options.json) printRun(i, runs, result);
    }
  } finally {
    // The private PostgreSQL server must not outlive the benchmark, also when a run failed.
    await pg?.stop();
  }

  const summary = {
    xargsRate: median(results.map((r) => r.xargs.rate)),
    ...(sandbox ? { xargsBwrapRate: median(results.map((r) => r.xargsBwrap.rate)) } : {}),
    shoalServerRate: median(results.map((r) => r.shoal.serverRate)),
    shoalWallRate: median(results.map((r) => r.shoal.wallRate)),
    ...(agents > 0 ? { agentsRate: median(results.map((r) => r.agents.serverRate)) } : {}),
    ...(pg
      ? {
          postgresRate: median(results.map((r) => r.postgres.serverRate)),
          postgresRatio: median(results.map((r) => r.postgresRatio)),
        }
      : {}),
    // Each run pairs a Shoal and an xargs measurement taken back to back; the median of those ratios
    // is steadier than a ratio of medians when the machine's load drifts between runs.
    ratio: median(results.map((r) => r.ratio)),
  };
  const met = {
    rate: summary.shoalServerRate >= TARGET.minRate,
    ratio: summary.ratio >= TARGET.minRatio,
  };
  met.all = met.rate && met.ratio;

  if (options.json) {
    const report = {
      benchmark: 'throughput',
      date: new Date().toISOString(),
      cpus: cpus().length,
      node: process.version,
      instances,
      slots,
      sandbox,
      redirect,
      agents,
      runs: results,
      median: summary,
      target: TARGET,
      met,
    };
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  const label = runs > 1 ? `median of ${runs} runs` : 'result';
  console.log(`\n${label}:`);
  const rows = [
    [`xargs -P ${slots}`, `${fixed(summary.xargsRate, 0)} instances/s`],
    ...(sandbox ? [[`xargs -P ${slots} of bwrap`, `${fixed(summary.xargsBwrapRate, 0)} instances/s`]] : []),
    ['shoal (to server EndTime)', `${fixed(summary.shoalServerRate, 0)} instances/s`],
    [`shoal (wall, ${POLL_MS} ms poll)`, `${fixed(summary.shoalWallRate, 0)} instances/s`],
    [sandbox ? 'shoal / xargs of bwrap' : 'shoal / xargs', fixed(summary.ratio, 3)],
    ...(pg
      ? [
          ['shoal on PostgreSQL', `${fixed(summary.postgresRate, 0)} instances/s`],
          ['PostgreSQL / SQLite', `${fixed(summary.postgresRatio, 3)} (target >= 0.8)`],
        ]
      : []),
    ...(agents > 0
      ? [
          [`shoal, embedded (${slots} slots)`, `${fixed(summary.shoalServerRate, 0)} instances/s`],
          [`shoal, ${agents} local agents`, `${fixed(summary.agentsRate, 0)} instances/s (1 slot each)`],
        ]
      : []),
  ];
  for (const [name, value] of rows) console.log(`  ${name.padEnd(28)}${value}`);
  console.log(
    `target: shoal >= ${TARGET.minRate}/s ${met.rate ? 'met' : 'NOT met'}; ` +
      `>= ${TARGET.minRatio} x ${sandbox ? 'xargs of bwrap' : 'xargs'} ${met.ratio ? 'met' : 'NOT met'}`,
  );
}

runMain(main);
