import { chown, lchown, link, lstat, mkdir, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { isShoalError, type BlobStore } from '@shoal/core';
import { isWithin, staysWithin, type InputPlan, type MappingPlan } from './mappings.js';
import { AttemptFailure } from './results.js';

/** A host path mounted at `visible` inside the sandbox. */
export interface Bind {
  readonly host: string;
  readonly visible: string;
  readonly writable: boolean;
}

/** The host uid/gid a sandboxed command runs as (undefined: the agent's own). */
export interface SandboxIds {
  readonly uid: number;
  readonly gid: number;
}

export interface StagingContext {
  readonly plan: MappingPlan;
  readonly blobs: BlobStore;
  /** Creates (once) and returns the attempt's staging directory beside its working directory. */
  readonly stageDir: () => Promise<string>;
  /** Who writes the writable directories, when the command runs as another uid than the agent. */
  readonly ids: SandboxIds | undefined;
}

/**
 * Makes every mapping exist before the command starts. Inside the working directory: inputs are
 * downloaded in place and output directories created. Outside it: each mapping gets a host directory in
 * the staging directory and a Bind for the sandbox. Inputs stay the agent's (read-only for the command);
 * output and log directories belong to the sandbox user.
 */
export async function stageMappings(ctx: StagingContext): Promise<Bind[]> {
  const binds: Bind[] = [];
  const { plan } = ctx;
  await Promise.all(
    plan.inputs.map(async (input, i) => {
      if (input.inside) {
        if (!(await leadsInside(input.host, plan.workDir.host))) {
          throw new AttemptFailure(
            'InputMappingFailed',
            leadsOutMessage(`InputMapping[${i}]`, input.visible),
          );
        }
        await downloadInput(ctx.blobs, input, input.host);
        return;
      }
      const dir = path.join(await ctx.stageDir(), `in-${i}`);
      const host = input.directory ? dir : path.join(dir, path.posix.basename(input.visible));
      if (!(await linkLocal(ctx.blobs, input, host))) await downloadInput(ctx.blobs, input, host);
      binds.push({ host, visible: input.visible, writable: false });
    }),
  );
  for (const [i, output] of plan.outputs.entries()) {
    if (output.inside && !(await leadsInside(output.host, plan.workDir.host))) {
      throw new AttemptFailure('OutputUploadFailed', leadsOutMessage(`OutputMapping[${i}]`, output.visible));
    }
    const host = output.inside ? output.host : path.join(await ctx.stageDir(), `out-${i}`);
    await mkdir(host, { recursive: true });
    if (!output.inside) {
      await giveTo(host, ctx.ids);
      binds.push({ host, visible: output.visible, writable: true });
    }
  }
  // A log file outside the working directory needs a writable directory at its parent, unless an output
  // mapping (or an earlier log) already provides one.
  for (const [i, log] of plan.logs.entries()) {
    if (log.inside) continue;
    const dir = path.posix.dirname(log.visible);
    if (binds.some((b) => b.writable && isWithin(dir, b.visible))) continue;
    const host = path.join(await ctx.stageDir(), `log-${i}`);
    await mkdir(host, { recursive: true });
    await giveTo(host, ctx.ids);
    binds.push({ host, visible: dir, writable: true });
  }
  return binds;
}

async function giveTo(dir: string, ids: SandboxIds | undefined): Promise<void> {
  if (ids) await chown(dir, ids.uid, ids.gid);
}

/**
 * Whether writing at `host` stays in the working directory. The agent may be root, and mkdir and
 * downloads follow links, so the nearest part of the path that exists (the destination itself, or its
 * closest existing parent) must resolve inside; the parts below it are then made as plain directories
 * (nothing else writes into the working directory while mappings are staged).
 */
async function leadsInside(host: string, workDir: string): Promise<boolean> {
  for (let p = host; isWithin(p, workDir); p = path.dirname(p)) {
    const exists = await lstat(p).then(
      () => true,
      () => false,
    );
    if (exists) return staysWithin(p, workDir);
  }
  return false;
}

function leadsOutMessage(field: string, visible: string): string {
  return `${field} local path ${visible} leads out of the working directory through a symlink`;
}

/** Gives a tree to the sandbox user without following symlinks (the tree may hold user-made links). */
export async function chownTree(root: string, ids: SandboxIds): Promise<void> {
  await lchown(root, ids.uid, ids.gid);
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  await Promise.all(entries.map((e) => lchown(path.join(e.parentPath ?? e.path, e.name), ids.uid, ids.gid)));
}

async function downloadInput(blobs: BlobStore, input: InputPlan, host: string): Promise<void> {
  try {
    if (input.directory) {
      await mkdir(host, { recursive: true });
      await blobs.downloadPrefix(input.source, host);
    } else {
      await mkdir(path.dirname(host), { recursive: true });
      await blobs.downloadFile(input.source, host);
    }
  } catch (err) {
    if (isShoalError(err) && err.code === 'InvalidResource.NotFound') {
      throw new AttemptFailure('InputMappingFailed', `input ${input.sourceText} not found`);
    }
    const message = err instanceof Error ? err.message : String(err);
    throw new AttemptFailure(
      'InputMappingFailed',
      `input ${input.sourceText} could not be staged at ${input.visible}: ${message}`,
    );
  }
}

/**
 * With the local object store, an input is hard-linked instead of copied: the store replaces objects by
 * rename, so the links are a snapshot taken now, and the sandbox binds them read-only. False (download
 * instead) for anything but plain files and directories, or when linking fails (another filesystem).
 */
async function linkLocal(blobs: BlobStore, input: InputPlan, host: string): Promise<boolean> {
  const local = blobs.localPathOf?.(input.source);
  // A whole bucket holds the store's own temporary directory; a path through a symlink may lead
  // anywhere. Both go through the store's own download, which checks.
  if (!local || input.source.key === '') return false;
  if ((await realpath(local).catch(() => '')) !== path.resolve(local)) return false;
  const st = await lstat(local).catch(() => undefined);
  if (!st || (input.directory ? !st.isDirectory() : !st.isFile())) return false;
  try {
    if (!input.directory) {
      await mkdir(path.dirname(host), { recursive: true });
      await link(local, host);
      return true;
    }
    await mkdir(host, { recursive: true });
    for (const e of await readdir(local, { withFileTypes: true, recursive: true })) {
      const from = path.join(e.parentPath ?? e.path, e.name);
      const to = path.join(host, path.relative(local, from));
      if (e.isDirectory()) await mkdir(to, { recursive: true });
      else if (e.isFile()) await link(from, to);
      else return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** The host side of a visible path: through the deepest bind containing it. */
export function hostPathOf(
  binds: readonly Bind[],
  visible: string,
): { host: string; bind: Bind } | undefined {
  let best: Bind | undefined;
  for (const b of binds) {
    if (isWithin(visible, b.visible) && (!best || b.visible.length > best.visible.length)) best = b;
  }
  if (!best) return undefined;
  return { host: best.host + visible.slice(best.visible.length), bind: best };
}
