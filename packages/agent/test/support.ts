import { chmod, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseObjectUri, type Assignment, type BlobStore } from '@shoal/core';
import { LocalBlobStore } from '@shoal/blobs';
import { Runner, type RunnerOptions } from '../src/index.js';

/** A temporary world for one test file: a local blob store, a work root and a log directory. */
export interface Fixture {
  readonly dir: string;
  readonly blobs: BlobStore;
  readonly workRoot: string;
  readonly logDir: string;
  runner(options?: Partial<RunnerOptions>): Runner;
  /** Paths for an attempt's stdout/stderr files. */
  io(name: string): { stdoutFile: string; stderrFile: string };
  put(uri: string, body: Buffer | string): Promise<void>;
  read(uri: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function fixture(): Promise<Fixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shoal-agent-'));
  // mkdtemp makes 0700; the sandbox user must be able to pass through to the work root (not list it).
  await chmod(dir, 0o711);
  const blobs = new LocalBlobStore({ root: path.join(dir, 'blobs') });
  const workRoot = path.join(dir, 'work');
  const logDir = path.join(dir, 'logs');
  await mkdir(logDir);
  // Every runner is closed at cleanup: its helper, sandboxes and cgroups go with it.
  const runners: Runner[] = [];
  return {
    dir,
    blobs,
    workRoot,
    logDir,
    runner: (options = {}) => {
      // One work root per runner: a work root (its sandboxes, its cgroups) belongs to one runner.
      const own = path.join(workRoot, `r${runners.length + 1}`);
      const runner = new Runner({ workRoot: own, blobs, workerId: 'w-test', killGraceMs: 300, ...options });
      runners.push(runner);
      return runner;
    },
    io: (name) => ({
      stdoutFile: path.join(logDir, `${name}.out`),
      stderrFile: path.join(logDir, `${name}.err`),
    }),
    put: (uri, body) => blobs.putObject(parseObjectUri(uri), body),
    read: async (uri) => (await blobs.readObject(parseObjectUri(uri))).toString('utf8'),
    cleanup: async () => {
      for (const runner of runners.splice(0)) await runner.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let counter = 0;

export function assignment(overrides: Partial<Assignment> = {}): Assignment {
  counter++;
  const instanceId = overrides.instanceId ?? 0;
  return {
    attemptId: `job-t${process.pid}-${counter}.task.${instanceId}.1`,
    jobId: `job-t${process.pid}-${counter}`,
    taskName: 'task',
    instanceId,
    instanceCount: 1,
    attemptNo: 1,
    priority: 0,
    commandLine: '/bin/true',
    packagePath: '',
    envVars: {},
    timeoutMs: 0,
    inputMappings: [],
    outputMappings: [],
    logMappings: [],
    stdoutRedirectPath: '',
    stderrRedirectPath: '',
    clusterId: 'cls-test',
    region: 'local-1',
    ossHost: 'oss.local',
    ownerId: 2,
    limits: { instanceType: 'test.small', cpuMillis: 1000, memoryBytes: 512 * 1024 * 1024, processes: 256 },
    networkAccess: true,
    image: { id: 'img-ubuntu', kind: 'System', source: '', archive: '' },
    hostMounts: [],
    ...overrides,
  };
}

export async function text(file: string): Promise<string> {
  return readFile(file, 'utf8');
}

/** One archive member, enough to write both well-formed and hostile archives. */
export interface Member {
  readonly name: string;
  readonly type?: 'file' | 'dir' | 'symlink' | 'hardlink';
  readonly body?: string;
  readonly link?: string;
  readonly mode?: number;
}

/** A ustar archive written by hand, so that tests can put in names a careful tar writer would refuse. */
export function tarGz(members: readonly Member[]): Buffer {
  const blocks: Buffer[] = [];
  for (const m of members) {
    const body = Buffer.from(m.type === undefined || m.type === 'file' ? (m.body ?? '') : '');
    const header = Buffer.alloc(512);
    header.write(m.name, 0, 100, 'utf8');
    header.write(octal(m.mode ?? (m.type === 'dir' ? 0o755 : 0o644), 8), 100);
    header.write(octal(0, 8), 108);
    header.write(octal(0, 8), 116);
    header.write(octal(body.length, 12), 124);
    header.write(octal(Math.floor(Date.now() / 1000), 12), 136);
    header.write('        ', 148);
    header.write({ file: '0', dir: '5', symlink: '2', hardlink: '1' }[m.type ?? 'file'], 156);
    header.write(m.link ?? '', 157, 100, 'utf8');
    header.write('ustar\u000000', 257);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148);
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** A stored (uncompressed) zip written by hand; unix modes in the external attributes. */
export function zip(members: readonly Member[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const type = m.type ?? 'file';
    const name = Buffer.from(type === 'dir' && !m.name.endsWith('/') ? `${m.name}/` : m.name, 'utf8');
    const data = Buffer.from(type === 'symlink' ? (m.link ?? '') : type === 'file' ? (m.body ?? '') : '');
    const kind = type === 'symlink' ? 0o120000 : type === 'dir' ? 0o040000 : 0o100000;
    const mode = kind | (m.mode ?? (type === 'dir' ? 0o755 : 0o644));
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(10, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by unix
    central.writeUInt16LE(10, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\u0000`;
}

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * Live (not zombie) processes of an attempt, found by the job id in their environment: this works
 * whether the attempt ran directly or in a sandbox (whose pids are its own namespace's).
 */
export async function liveAttemptProcesses(jobId: string): Promise<number[]> {
  const marker = Buffer.from(`\u0000BATCH_COMPUTE_DAG_JOB_ID=${jobId}\u0000`);
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const environ = await readFile(`/proc/${name}/environ`).catch(() => undefined);
    if (!environ || !Buffer.concat([Buffer.from([0]), environ]).includes(marker)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    if (state && state !== 'Z' && state !== 'X') pids.push(Number(name));
  }
  return pids;
}

/** Waits (up to 5 s, for a busy machine) until no process of the attempt is left; fails naming those that are. */
export async function waitAttemptGone(jobId: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if ((await liveAttemptProcesses(jobId)).length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const left = await liveAttemptProcesses(jobId);
  if (left.length) throw new Error(`processes of ${jobId} still alive: ${left.join(', ')}`);
}
