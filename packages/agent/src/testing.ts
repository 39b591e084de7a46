/**
 * Real images and a real Docker engine for tests, with no manual setup:
 * - `testRootfsArchive()`: a Debian root filesystem (debootstrap, minbase) with this machine's `node`
 *   added, as a .tar.gz; built once and kept in the temp dir (SHOAL_TEST_ROOTFS names one to use instead);
 * - `startTestDocker()`: a private dockerd (its own data root and socket, no iptables, no bridge), or
 *   undefined with the reason when this machine has no Docker engine to run;
 * - `testDockerArchive()`: that root filesystem imported into the engine and saved (`docker save`).
 * Building needs root, debootstrap and Debian's mirror; test files that need them skip loudly without.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CACHE = path.join(tmpdir(), 'shoal-test-images');
const SUITE = 'bookworm';
const MIRROR = 'http://deb.debian.org/debian';

/**
 * Why this machine cannot build or run test images, or undefined when it can. With
 * SHOAL_TEST_REQUIRE_IMAGES set (CI), that is an error rather than a reason to skip.
 */
export function testImagesUnavailable(): string | undefined {
  if (process.env.SHOAL_TEST_ROOTFS) return undefined;
  if (process.getuid?.() !== 0) return required('building a root filesystem needs root (debootstrap)');
  if (!which('debootstrap')) return required('debootstrap is not installed (apt-get install debootstrap)');
  return undefined;
}

function required(reason: string): string {
  if (process.env.SHOAL_TEST_REQUIRE_IMAGES)
    throw new Error(`SHOAL_TEST_REQUIRE_IMAGES is set, but ${reason}`);
  return reason;
}

/**
 * A reason to skip a sandbox test, passed through; with SHOAL_TEST_REQUIRE_SANDBOX set (CI) it is an error
 * instead, so that a sandbox test that cannot run fails rather than passing as skipped.
 *
 * @example const noBwrap = existsSync('/usr/bin/bwrap') ? undefined : sandboxSkip('bubblewrap is not installed')
 */
export function sandboxSkip(reason: string): string {
  if (process.env.SHOAL_TEST_REQUIRE_SANDBOX)
    throw new Error(`SHOAL_TEST_REQUIRE_SANDBOX is set, but this sandbox test cannot run: ${reason}`);
  return reason;
}

/** A .tar.gz of a Debian root filesystem with node; built once per machine (about 30 s). */
export async function testRootfsArchive(): Promise<string> {
  if (process.env.SHOAL_TEST_ROOTFS) return process.env.SHOAL_TEST_ROOTFS;
  const archive = path.join(CACHE, `${SUITE}-node-${process.version}-v2.tar.gz`);
  if (existsSync(archive)) return archive;
  const problem = testImagesUnavailable();
  if (problem) throw new Error(`cannot build the test root filesystem: ${problem}`);
  return withLock(archive, async () => {
    if (existsSync(archive)) return archive;
    const work = mkdtempSync(path.join(CACHE, 'build-'));
    try {
      const root = path.join(work, 'rootfs');
      await run('debootstrap', ['--variant=minbase', SUITE, root, MIRROR], { maxBuffer: 64 << 20 });
      // This machine's node runs on the same Debian release; the examples' tasks are node scripts. In
      // /usr/bin: BatchCompute's Docker mode has no /usr/local/bin in its PATH.
      await run('cp', [process.execPath, path.join(root, 'usr/bin/node')]);
      rmSync(path.join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
      rmSync(path.join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
      const partial = `${archive}.${process.pid}`;
      await run('tar', ['--numeric-owner', '-C', root, '-czf', partial, '.'], { maxBuffer: 64 << 20 });
      renameSync(partial, archive);
      return archive;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}

export interface TestDocker {
  /** For DOCKER_HOST / `docker -H`. */
  readonly host: string;
  stop(): Promise<void>;
}

/** Why no Docker engine can run here, or undefined. */
export function testDockerUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return required('running dockerd needs root');
  if (!which('dockerd')) return required('dockerd is not installed (apt-get install docker.io)');
  if (!which('docker')) return required('the docker CLI is not installed');
  return undefined;
}

/** A private dockerd for one test file. */
export async function startTestDocker(): Promise<TestDocker> {
  const problem = testDockerUnavailable();
  if (problem) throw new Error(`cannot start a Docker engine: ${problem}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-dockerd-'));
  const host = `unix://${dir}/docker.sock`;
  const child: ChildProcess = spawn(
    'dockerd',
    [
      '--data-root',
      path.join(dir, 'data'),
      '--exec-root',
      path.join(dir, 'exec'),
      '-H',
      host,
      '--pidfile',
      path.join(dir, 'docker.pid'),
      '--iptables=false',
      '--bridge=none',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log = (log + chunk).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const up = await run('docker', ['-H', host, 'version', '--format', '{{.Server.Version}}']).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`dockerd did not start: ${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    host,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      // dockerd leaves some mounts behind (its network namespace): detached before the directory goes.
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .map((line) => line.split(' ')[4] ?? '')
        .filter((point) => point.startsWith(`${dir}/`))
        .sort((a, b) => b.length - a.length);
      for (const point of mounts) spawnSync('umount', ['-l', point], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The test root filesystem as a Docker image archive (`docker save` of `docker import`), tagged `ref`. */
export async function testDockerArchive(docker: TestDocker, ref: string): Promise<string> {
  const archive = path.join(
    CACHE,
    `docker-${SUITE}-node-${process.version}-v2-${ref.replace(/[^a-z0-9]/gi, '_')}.tar`,
  );
  if (existsSync(archive)) return archive;
  const rootfs = await testRootfsArchive();
  return withLock(archive, async () => {
    if (existsSync(archive)) return archive;
    await run('docker', ['-H', docker.host, 'import', rootfs, ref], { maxBuffer: 16 << 20 });
    const partial = `${archive}.${process.pid}`;
    await run('docker', ['-H', docker.host, 'save', '-o', partial, ref]);
    await run('docker', ['-H', docker.host, 'rmi', ref]);
    renameSync(partial, archive);
    return archive;
  });
}

function which(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** One builder at a time across test processes (files run in parallel). */
async function withLock<T>(target: string, build: () => Promise<T>): Promise<T> {
  mkdirSync(CACHE, { recursive: true });
  const lock = `${target}.lock`;
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A builder that died leaves its lock: taken over after ten minutes.
      if (Date.now() > deadline) {
        rmdirSync(lock);
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    return await build();
  } finally {
    rmdirSync(lock);
  }
}
