/**
 * A real `shoal server` subprocess on a free port in a temp dir, and `shoal` commands as further
 * subprocesses (the `bcs` bin) that find it through SHOAL_DATA_DIR or a saved login.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/shoal.js', import.meta.url));

/** The job id a `shoal sub` or `shoal cj` printed. */
export function jobId(stdout: string): string {
  const m = /^Job created: (job-\S+)$/m.exec(stdout);
  assert.ok(m, `no job id in ${stdout}`);
  return m[1]!;
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Harness {
  root: string;
  dataDir: string;
  endpoint: string;
  creds: { AccessKeyId: string; AccessKeySecret: string };
  log(): string;
  run(args: string[], options?: { env?: NodeJS.ProcessEnv; cwd?: string }): Promise<Result>;
  close(): Promise<number | null>;
}

function cleanEnv(root: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('SHOAL_') && key !== 'DEBUG' && key !== 'NO_COLOR') env[key] = value;
  }
  return { ...env, HOME: root, SHOAL_CONFIG_DIR: join(root, 'config') };
}

/**
 * Starts the server in a fresh temp dir (mkdtemp's 0700: the sandbox needs no path it can walk), with the
 * server's defaults (every attempt sandboxed) unless serverArgs say otherwise.
 */
export async function startServer(prefix: string, serverArgs: string[] = []): Promise<Harness> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const dataDir = join(root, 'data');
  let serverLog = '';
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, 'server', '--port', '0', '--data-dir', dataDir, ...serverArgs],
    {
      cwd: root,
      env: cleanEnv(root),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${serverLog}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      serverLog += d.toString();
      const m = /^Shoal listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(serverLog);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (serverLog += d.toString()));
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${serverLog}`)));
  });
  const creds = JSON.parse(await readFile(join(dataDir, 'credentials.json'), 'utf8')) as Harness['creds'];
  const run: Harness['run'] = (args, options = {}) =>
    new Promise((resolve, reject) => {
      const proc = spawn(process.execPath, [BIN, ...args], {
        cwd: options.cwd ?? root,
        env: { ...cleanEnv(root), SHOAL_DATA_DIR: dataDir, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      proc.on('error', reject);
      proc.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  return {
    root,
    dataDir,
    endpoint,
    creds,
    log: () => serverLog,
    run,
    close: async () => {
      let code: number | null = null;
      if (child.exitCode === null) {
        const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
        child.kill('SIGTERM');
        code = await exited;
      }
      await rm(root, { recursive: true, force: true });
      return code;
    },
  };
}

/** For after(): stops the server with SIGTERM, asserts it exited 0, removes its dir. No-op without a harness. */
export async function stopServer(h: Harness | undefined): Promise<void> {
  if (!h) return;
  const code = await h.close();
  assert.equal(code, 0, `server did not shut down cleanly:\n${h.log()}`);
}
