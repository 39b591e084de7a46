/**
 * Pieces both benchmarks share: option parsing, job descriptions, server times and the baseline spawn.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { parseTime } from '@shoal/core';
import { installCleanupHooks, isStopping } from './cleanup.mjs';

/**
 * Parses `--name value` options into whole numbers (>= min) and booleans; prints usage on --help.
 * @param {string} usage
 * @param {Record<string, { default: number, min?: number } | { flag: true }>} spec
 */
export function parseOptions(usage, spec) {
  const options = { help: { type: 'boolean' } };
  for (const [name, entry] of Object.entries(spec))
    options[name] = { type: 'flag' in entry ? 'boolean' : 'string' };
  let values;
  try {
    ({ values } = parseArgs({ options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError(`${err.message}\n${usage}`);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const result = {};
  for (const [name, entry] of Object.entries(spec)) {
    if ('flag' in entry) {
      result[name] = values[name] === true;
      continue;
    }
    const text = values[name];
    const min = entry.min ?? 1;
    if (text !== undefined && (!/^\d+$/.test(text) || Number(text) < min))
      throw new UsageError(`--${name} must be a whole number >= ${min}, got "${text}"\n${usage}`);
    result[name] = text === undefined ? entry.default : Number(text);
  }
  return result;
}

/** A bad command line: reported without a stack. */
export class UsageError extends Error {}

/** Runs a benchmark's main function; exits 1 on errors only (a missed target is a result, not an error). */
export function runMain(main) {
  installCleanupHooks();
  main().then(
    () => {
      process.exitCode = 0;
    },
    (err) => {
      if (isStopping()) return;
      process.stderr.write(err instanceof UsageError ? `${err.message}\n` : `error: ${err?.stack ?? err}\n`);
      process.exitCode = 1;
    },
  );
}

/** A task of `instances` runs of /bin/true, in the shape official clients send. */
export function trueTask(instances = 1) {
  return {
    InstanceCount: instances,
    MaxRetryCount: 0,
    Timeout: 600,
    ClusterId: '',
    AutoCluster: { ImageId: 'img-ubuntu', InstanceType: 'shoal.local', ResourceType: 'OnDemand' },
    Parameters: {
      Command: { CommandLine: '/bin/true', PackagePath: '', EnvVars: {} },
      StdoutRedirectPath: '',
      StderrRedirectPath: '',
    },
  };
}

/**
 * A job description: tasks run in the order given when `chain` is set (t0 -> t1 -> ...).
 * @param {string} name @param {Record<string, object>} tasks @param {boolean} chain
 */
export function jobOf(name, tasks, chain = false) {
  const names = Object.keys(tasks);
  const dependencies = {};
  if (chain) for (let i = 0; i + 1 < names.length; i++) dependencies[names[i]] = [names[i + 1]];
  return {
    Name: name,
    Description: 'shoal benchmark',
    Priority: 1,
    Type: 'DAG',
    JobFailOnInstanceFail: true,
    AutoRelease: false,
    DAG: { Tasks: tasks, Dependencies: dependencies },
  };
}

/** Microseconds since the epoch of an API time field; throws when it is unset, since figures need it. */
export function serverUs(text, what) {
  const us = text ? parseTime(text) : undefined;
  if (us === undefined) throw new Error(`${what} is missing or malformed: "${text}"`);
  return us;
}

/** Wall clock in microseconds since the epoch, comparable with server times on the same machine. */
export function nowUs() {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Throws unless the job ended Finished (a failed job means the figures would be meaningless). */
export function assertFinished(job) {
  if (job.State !== 'Finished') throw new Error(`job ${job.Id} ended ${job.State}: ${job.Message ?? ''}`);
}

/**
 * Polls a job until it is terminal; returns it with the wall time (ms, performance.now()) the poll saw it.
 * @param {import('@shoal/sdk').ShoalClient} client
 */
export async function pollUntilDone(client, jobId, intervalMs, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const job = await client.getJob(jobId);
    const seenMs = performance.now();
    if (['Finished', 'Failed', 'Stopped'].includes(job.State)) return { job, seenMs };
    if (seenMs > deadline) throw new Error(`job ${jobId} still ${job.State} after ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** Wall time (ms) of one spawn of a command from Node until its exit event. */
export function timeSpawn(command, args = []) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`${command} exited with code ${code}`));
      else resolve(performance.now() - started);
    });
  });
}
