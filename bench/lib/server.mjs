/**
 * A Shoal server run as a subprocess for one benchmark: `shoal server --port 0` in a fresh temp data dir.
 * The server and its data dir must not outlive the benchmark, whether it ends normally, throws, or is
 * interrupted (Ctrl-C), so each server is tracked for cleanup from the moment it is spawned. The server
 * leads its own process group (detached): Ctrl-C reaches only the benchmark, which then stops the server
 * in order, and killing the group also reaches the server's spawner helper.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShoalClient } from '@shoal/sdk';
import { killGroup, track } from './cleanup.mjs';

const SHOAL_BIN = fileURLToPath(new URL('../../packages/cli/bin/shoal.js', import.meta.url));
const LISTENING = /Shoal listening on (http:\/\/[^\s]+):(\d+)/;

/**
 * Data dirs of stopped servers, removed when the benchmark ends rather than between its runs: deleting
 * tens of thousands of log files just before a measurement makes the next run's file creations slower
 * (ext4 without a journal skips inodes freed in the last half minute when it allocates new ones).
 */
const stoppedDataDirs = [];
track({
  stop: async () => removeStoppedDataDirs(),
  killNow: () => removeStoppedDataDirs(),
});

function removeStoppedDataDirs() {
  for (const dir of stoppedDataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** @typedef {{ slots?: number, sandbox?: 'off' | 'bwrap', logLevel?: string, startTimeoutMs?: number, stopTimeoutMs?: number, args?: string[] }} BenchServerOptions */

/** @param {BenchServerOptions} options */
function resolveBenchServerOptions(options = {}) {
  return Object.freeze({
    slots: options.slots ?? 2,
    sandbox: options.sandbox ?? 'off',
    logLevel: options.logLevel ?? 'warn',
    startTimeoutMs: options.startTimeoutMs ?? 20_000,
    stopTimeoutMs: options.stopTimeoutMs ?? 5_000,
    args: options.args ?? [],
  });
}

/**
 * Starts a server and returns its client and a stop function.
 * @param {BenchServerOptions} options
 */
export async function startBenchServer(options = {}) {
  const resolved = resolveBenchServerOptions(options);
  const dataDir = mkdtempSync(join(tmpdir(), 'shoal-bench-'));
  const child = spawn(
    process.execPath,
    [
      SHOAL_BIN,
      'server',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--slots',
      String(resolved.slots),
      '--sandbox',
      resolved.sandbox,
      '--log-level',
      resolved.logLevel,
      ...resolved.args,
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    // Warnings and errors of the server are worth seeing next to the figures.
    process.stderr.write(chunk);
  });

  let stopping;
  let untrack = () => undefined;
  const server = {
    dataDir,
    pid: child.pid,
    killNow() {
      killGroup(child.pid, 'SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          // SIGTERM to the server alone lets it close in order (it ends its spawner helper itself).
          child.kill('SIGTERM');
          let timer;
          const timeout = new Promise((resolve) => {
            timer = setTimeout(resolve, resolved.stopTimeoutMs, 'timeout');
          });
          const outcome = await Promise.race([exited, timeout]);
          clearTimeout(timer);
          if (outcome === 'timeout')
            process.stderr.write(`server ${child.pid} ignored SIGTERM; killing it\n`);
        }
        // Whatever is left of the group (a stuck server or helper) must not outlive the benchmark.
        killGroup(child.pid, 'SIGKILL');
        await exited;
        stoppedDataDirs.push(dataDir);
        untrack();
      })();
      return stopping;
    },
  };
  untrack = track(server);

  try {
    const endpoint = await new Promise((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(
        () => reject(new Error(`server did not start within ${resolved.startTimeoutMs} ms\n${stderr}`)),
        resolved.startTimeoutMs,
      );
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        const match = LISTENING.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(`${match[1]}:${match[2]}`);
        }
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`server exited before listening (code ${code}, signal ${signal})\n${stderr}`));
      });
    });
    const credentials = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'));
    const client = new ShoalClient({
      endpoint,
      accessKeyId: credentials.AccessKeyId,
      accessKeySecret: credentials.AccessKeySecret,
    });
    return Object.assign(server, { endpoint, client });
  } catch (err) {
    await server.stop();
    throw err;
  }
}
