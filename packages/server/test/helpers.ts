/** Test support: a real Shoal server in a temp data dir, and a minimal signed HTTP client. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { authorizationHeader, httpDate } from '@shoal/core';
import { startShoal, type RunningShoal, type ShoalServerOptions } from '../src/index.js';

export interface TestShoal extends RunningShoal {
  readonly dataDir: string;
  api(method: string, target: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  waitForJob(id: string, states?: string[], timeoutMs?: number): Promise<Json>;
  cleanup(): Promise<void>;
}

/** Parsed JSON of API responses; tests assert on its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: Json;
}

export async function signedFetch(
  url: string,
  accessKeyId: string,
  secret: string,
  method: string,
  target: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = {
    Date: httpDate(Date.now()),
    Accept: 'application/json',
    'Content-Type': 'application/json',
    'x-acs-version': '2015-11-11',
    'x-acs-signature-method': 'HMAC-SHA1',
    'x-acs-signature-version': '1.0',
    ...extraHeaders,
  };
  headers.Authorization = authorizationHeader(accessKeyId, secret, method, target, headers);
  const payload =
    body === undefined
      ? undefined
      : typeof body === 'string' || Buffer.isBuffer(body)
        ? body
        : JSON.stringify(body);
  const response = await fetch(url + target, { method, headers, body: payload });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export async function startTestShoal(
  options: Partial<ShoalServerOptions> = {},
  dataDir?: string,
): Promise<TestShoal> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'shoal-test-'));
  const shoal = await startShoal({
    dataDir: dir,
    port: 0,
    slots: 2,
    logLevel: 'error',
    heartbeatMs: 200,
    pollMs: 200,
    ...options,
  });
  const { AccessKeyId, AccessKeySecret } = shoal.credentials;
  const api = (method: string, target: string, body?: unknown, headers?: Record<string, string>) =>
    signedFetch(shoal.url, AccessKeyId, AccessKeySecret, method, target, body, headers);
  return Object.assign(Object.create(shoal) as RunningShoal, shoal, {
    dataDir: dir,
    api,
    async waitForJob(id: string, states = ['Finished', 'Failed', 'Stopped'], timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await api('GET', `/jobs/${id}`);
        if (res.status !== 200) throw new Error(`GET job ${id}: ${res.status} ${res.text}`);
        if (states.includes(res.json.State)) return res.json;
        if (Date.now() > deadline)
          throw new Error(`job ${id} still ${res.json.State} after ${timeoutMs} ms: ${res.text}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async cleanup() {
      await shoal.close();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** One TaskDescription in the shape official clients send (the CLI's ClusterId:"" + AutoCluster form). */
export function taskDescription(commandLine: string, packagePath = '', task: Record<string, unknown> = {}) {
  return {
    InstanceCount: 1,
    MaxRetryCount: 0,
    Timeout: 60,
    ClusterId: '',
    AutoCluster: { ImageId: 'img-ubuntu', InstanceType: 'shoal.local', ResourceType: 'OnDemand' },
    Parameters: {
      Command: { CommandLine: commandLine, PackagePath: packagePath, EnvVars: {} },
      InputMappingConfig: { Locale: 'GBK', Lock: false },
      StdoutRedirectPath: '',
      StderrRedirectPath: '',
    },
    ...task,
  };
}

/** A one-task DAG job description in the shape official clients send. */
export function simpleJob(
  commandLine: string,
  task: Record<string, unknown> = {},
  job: Record<string, unknown> = {},
) {
  return {
    Name: 'test-job',
    Description: 'test',
    Priority: 1,
    Type: 'DAG',
    JobFailOnInstanceFail: true,
    AutoRelease: false,
    DAG: { Tasks: { task: taskDescription(commandLine, '', task) }, Dependencies: {} },
    ...job,
  };
}

/** A server in a process of its own (fixtures/run-server.js), for tests that kill it. */
export interface ServerProcess {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly dataDir: string;
}

/** Starts one and resolves once it listens; `env` adds SHOAL_DATABASE_URL, SHOAL_MASTER_KEY or SHOAL_LEASE_MS. */
export function startServerProcess(
  dataDir: string,
  options: { slots?: number; sandbox?: 'bwrap' | 'off'; env?: NodeJS.ProcessEnv } = {},
): Promise<ServerProcess> {
  const fixture = fileURLToPath(new URL('./fixtures/run-server.js', import.meta.url));
  const args = [fixture, dataDir, String(options.slots ?? 2), options.sandbox ?? 'bwrap'];
  const proc = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...options.env },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) resolve({ proc, url: m[1]!, dataDir });
    });
    proc.once('exit', (code) =>
      reject(new Error(`server of ${dataDir} exited with ${code} before it was ready`)),
    );
  });
}

/** A signed request to a server process, with the admin key of its data dir. */
export function serverProcessApi(
  server: Pick<ServerProcess, 'url' | 'dataDir'>,
  method: string,
  target: string,
  body?: unknown,
): Promise<ApiResponse> {
  const creds = JSON.parse(readFileSync(join(server.dataDir, 'credentials.json'), 'utf8')) as {
    AccessKeyId: string;
    AccessKeySecret: string;
  };
  return signedFetch(server.url, creds.AccessKeyId, creds.AccessKeySecret, method, target, body);
}

/** A `shoal agent` process started by a test. */
export interface TestAgent {
  readonly proc: ChildProcess;
  /** Its worker id, once it joined. */
  readonly id: string;
}

/**
 * Starts `shoal agent`s against a test server, each in a temp work dir; `uidBase` is the first of the
 * blocks of 64 sandbox uids they take, one block each (test files running side by side use distinct
 * bases). `cleanup` kills them and removes their dirs.
 */
export function testAgents(url: () => string, uidBase: number) {
  const bin = fileURLToPath(new URL('../../../cli/bin/shoal.js', import.meta.url));
  const started: ChildProcess[] = [];
  const dirs: string[] = [];
  let block = 0;
  return {
    start(clusterId: string, workerToken: string, args: string[] = []): Promise<TestAgent> {
      const dir = mkdtempSync(join(tmpdir(), 'shoal-agent-'));
      dirs.push(dir);
      const sandbox = process.getuid?.() === 0 ? ['--sandbox-uid-base', String(uidBase + 64 * block++)] : [];
      const proc = spawn(
        process.execPath,
        [
          bin,
          'agent',
          '--server',
          url(),
          '--cluster',
          clusterId,
          '--token',
          workerToken,
          '--work-dir',
          dir,
          ...sandbox,
          ...args,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      started.push(proc);
      let err = '';
      proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      return new Promise((resolve, reject) => {
        let out = '';
        proc.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /Shoal agent (i-[0-9a-f]+) joined/.exec(out);
          if (m) resolve({ proc, id: m[1]! });
        });
        proc.once('exit', (code) => reject(new Error(`agent exited ${code}: ${err}`)));
      });
    },
    cleanup(): void {
      for (const proc of started) proc.kill('SIGKILL');
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Why the Slurm tests cannot run here, or undefined: they need a running Slurm whose SLURM_CONF is in
 * the environment (scripts/slurm-up.sh starts one; `.ci/run` does). With SHOAL_TEST_REQUIRE_SLURM
 * set (CI), a missing Slurm is an error, not a reason to skip.
 */
export function testSlurmUnavailable(): string | undefined {
  let reason: string | undefined;
  if (!process.env.SLURM_CONF)
    reason = 'SLURM_CONF is not set (start one with: eval "$(sudo scripts/slurm-up.sh)")';
  else {
    const probe = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', timeout: 10_000 });
    if (probe.status !== 0)
      reason = `sinfo does not answer: ${(probe.stderr || probe.error?.message || '').trim()}`;
  }
  if (reason && process.env.SHOAL_TEST_REQUIRE_SLURM)
    throw new Error(`SHOAL_TEST_REQUIRE_SLURM is set, but ${reason}`);
  return reason && `SKIPPED LOUDLY: no Slurm here: ${reason}`;
}

/** Polls `probe` every 50 ms until it returns something, or fails the test naming `what`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
