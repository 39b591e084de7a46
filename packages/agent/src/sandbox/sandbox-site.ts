/** Sandboxed attempts: each in a warm sandbox of its profile (owner, network, image), see pool.ts. */
import { chownSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Assignment } from '@shoal/core';
import type { ResolvedRunnerOptions } from '../runner/options.js';
import { supervise } from '../runner/process.js';
import { supervision, type Site } from '../runner/site.js';
import { attemptRootBase, attemptRootOps, WORKDIR_VISIBLE } from './attempt-root.js';
import type { CheckedMount } from './host-mounts.js';
import { mountInside, SLOT_INSIDE, type SandboxImage } from './outer.js';
import type { SandboxRuntime } from './runtime.js';

let attemptSeq = 0;

export async function sandboxSite(
  a: Assignment,
  image: SandboxImage,
  mounts: readonly CheckedMount[],
  runtime: SandboxRuntime,
  o: Readonly<ResolvedRunnerOptions>,
): Promise<Site> {
  const pool = runtime.pool!;
  const launcher = runtime.launcher!;
  const hostMounts = mounts.map((m) => ({ hostPath: m.hostPath, writable: m.writable }));
  const sb = await pool.acquire({ ownerId: a.ownerId, networkAccess: a.networkAccess, image, hostMounts });
  const n = ++attemptSeq;
  const ids = process.getuid?.() === 0 ? { uid: sb.uid, gid: sb.uid } : undefined;
  // The empty working directory of the sandbox's last attempt is reused when it is as good as new:
  // mkdir and rmdir are journalled metadata operations, a large part of a short attempt's cost.
  const spare = o.keepWorkDirs ? undefined : sb.spareWorkDir;
  sb.spareWorkDir = undefined;
  const workHost = spare ?? path.join(sb.slotDir, `w${n}`);
  const stagePath = path.join(sb.slotDir, `s${n}`);
  let staged: Promise<string> | undefined;
  if (!spare) {
    try {
      // Synchronous on purpose: a few microseconds, on every attempt's critical path.
      mkdirSync(workHost, { mode: 0o700 });
      if (ids) chownSync(workHost, ids.uid, ids.gid);
    } catch (err) {
      pool.release(sb, false);
      throw err;
    }
  }
  const inside = (host: string): string => SLOT_INSIDE + host.slice(sb.slotDir.length);
  return {
    kind: 'sandbox',
    workDirs: { visible: WORKDIR_VISIBLE, host: workHost },
    ids,
    stageDir: () => (staged ??= mkdir(stagePath, { mode: 0o711 }).then(() => stagePath)),
    run: (argv, env, binds, io, attempt) =>
      supervise(
        (onExit) =>
          launcher.run(
            {
              sandboxId: sb.id,
              stdoutFile: io.stdoutFile,
              stderrFile: io.stderrFile,
              cgroupName: runtime.cgroups ? `${sb.id}-a${n}` : '',
              limits: {
                memoryBytes: attempt.limits.memoryBytes,
                cpuMillis: attempt.limits.cpuMillis,
                pids: attempt.limits.processes,
              },
              cwd: WORKDIR_VISIBLE,
              base: attemptRootBase(image),
              ops: attemptRootOps(image, inside(workHost), [
                ...binds.map((b) => ({ source: inside(b.host), visible: b.visible, writable: b.writable })),
                ...mounts.map((m, i) => ({
                  source: mountInside(i),
                  visible: m.visible,
                  writable: m.writable,
                })),
              ]),
              argv,
              env,
            },
            onExit,
          ),
        supervision(attempt, io, o.killGraceMs),
      ),
    finish: async (p) => {
      // Nothing of the attempt runs any more: its files can go, in the background (the result need
      // not wait for that), unless the working directory is still empty and can serve the next one.
      if (!o.keepWorkDirs) {
        if (asFreshFor(workHost, sb.uid)) sb.spareWorkDir = workHost;
        else void rm(workHost, { recursive: true, force: true }).catch(() => undefined);
        if (staged) void rm(stagePath, { recursive: true, force: true }).catch(() => undefined);
      }
      pool.release(sb, p?.lost === undefined && !sb.dead);
    },
  };
}

/** Whether a sandboxed attempt's working directory is as good as a new one: still its, 0700, empty. */
function asFreshFor(dir: string, uid: number): boolean {
  try {
    const st = lstatSync(dir);
    const owner = process.getuid?.() === 0 ? uid : process.getuid?.();
    if (!st.isDirectory() || st.uid !== owner || (st.mode & 0o7777) !== 0o700) return false;
    return readdirSync(dir).length === 0;
  } catch {
    return false;
  }
}
