/** Unsandboxed attempts (`--sandbox off`): commands run as the agent's user, in a directory of the work root. */
import { lstatSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Assignment } from '@shoal/core';
import { DirectLauncher } from './launch/direct.js';
import { NativeLauncher } from './launch/native.js';
import { SpawnerLauncher } from './launch/spawner.js';
import type { Launcher } from './launch/types.js';
import type { ResolvedRunnerOptions } from './options.js';
import { supervise } from './process.js';
import { supervision, type Site } from './site.js';

const MAX_SPARE_WORK_DIRS = 64;
/** This process's uid: asked once, not on every attempt's path. */
const OWN_UID = process.getuid?.();

export class PlainSites {
  private launcher: Launcher | undefined;
  private workRootReady: Promise<unknown> | undefined;
  /** Empty working directories of finished attempts, ready for the next ones. */
  private readonly spareWorkDirs: string[] = [];
  /** The mode a new working directory gets (umask applied), learnt from the first one. */
  private freshMode: number | undefined;

  constructor(private readonly o: Readonly<ResolvedRunnerOptions>) {}

  async site(a: Assignment): Promise<Site> {
    const o = this.o;
    // A clean directory left by an earlier attempt is reused when there is one: mkdir and rmdir are
    // journalled metadata operations, the most expensive part of a short attempt on the main thread.
    const spare = o.keepWorkDirs ? undefined : this.spareWorkDirs.pop();
    const workDir = spare ?? path.join(o.workRoot, dirName(a.attemptId));
    const stagePath = `${workDir}.stage`;
    let staged: Promise<string> | undefined;
    if (!spare) await this.makeWorkDir(workDir);
    return {
      kind: 'plain',
      workDirs: { visible: workDir, host: workDir },
      ids: undefined,
      stageDir: () => (staged ??= mkdir(stagePath, { recursive: true }).then(() => stagePath)),
      run: (argv, env, _binds, io, attempt) => {
        const launcher = this.launcherOf();
        return supervise(
          (onExit) =>
            launcher.start(
              {
                file: argv[0]!,
                args: argv.slice(1),
                cwd: workDir,
                env,
                stdoutFile: io.stdoutFile,
                stderrFile: io.stderrFile,
              },
              onExit,
            ),
          supervision(attempt, io, o.killGraceMs),
        );
      },
      finish: async () => {
        if (o.keepWorkDirs) return;
        if (this.spareWorkDirs.length < MAX_SPARE_WORK_DIRS && this.asFresh(workDir))
          this.spareWorkDirs.push(workDir);
        else await removeDir(workDir);
        if (staged) await rm(stagePath, { recursive: true, force: true }).catch(() => undefined);
      },
    };
  }

  /** Forgets the spare directories (the work root is being emptied). */
  reset(): void {
    this.spareWorkDirs.length = 0;
    this.workRootReady = undefined;
  }

  async close(): Promise<void> {
    for (const dir of this.spareWorkDirs.splice(0)) await removeDir(dir);
    await this.launcher?.close();
  }

  private launcherOf(): Launcher {
    if (this.launcher) return this.launcher;
    const o = this.o;
    if (!o.spawner) this.launcher = new DirectLauncher();
    else if (NativeLauncher.available(o.helperPath)) this.launcher = new NativeLauncher(o.helperPath);
    else this.launcher = new SpawnerLauncher();
    return this.launcher;
  }

  /** Whether a used working directory is as good as a new one: ours, with a new one's mode, empty. */
  private asFresh(dir: string): boolean {
    try {
      const st = lstatSync(dir);
      if (!st.isDirectory() || st.uid !== OWN_UID || this.freshMode === undefined) return false;
      return (st.mode & 0o7777) === this.freshMode && readdirSync(dir).length === 0;
    } catch {
      return false;
    }
  }

  private async makeWorkDir(workDir: string): Promise<void> {
    await (this.workRootReady ??= mkdir(this.o.workRoot, { recursive: true }));
    try {
      // Synchronous on purpose: one mkdir costs microseconds, a thread-pool round trip costs more, and it
      // sits on every attempt's critical path.
      mkdirSync(workDir);
      this.freshMode ??= lstatSync(workDir).mode & 0o7777;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // Left over by a run of the same attempt that crashed: start clean.
      await rm(workDir, { recursive: true, force: true });
      await mkdir(workDir);
    }
  }
}

/** rmdir first: the working directory of a short command is often empty, and rm -r costs several calls. */
async function removeDir(dir: string): Promise<void> {
  try {
    rmdirSync(dir); // synchronous for the same reason as the mkdir in makeWorkDir
  } catch {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Attempt ids are `<jobId>.<task>.<iid>.<n>`; anything else is made safe for a directory name. */
export function dirName(attemptId: string): string {
  const safe = attemptId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200);
  return safe === '' || safe.startsWith('.') ? `a${safe}` : safe;
}
