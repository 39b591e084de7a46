import { access, constants, lchown, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { isShoalError, type BlobStore } from '@shoal/core';
import { isWithin, staysWithin, type InputPlan, type MappingPlan } from './mappings.js';
import { blockedPathFor } from './perms.js';
import { AttemptFailure } from './results.js';
import type { Bind, SandboxIds } from './sandbox.js';

export interface StagingContext {
  readonly plan: MappingPlan;
  readonly blobs: BlobStore;
  /** Creates (once) and returns the attempt's staging directory beside its working directory. */
  readonly stageDir: () => Promise<string>;
  /** The sandbox user, when the command runs as another uid than the agent. */
  readonly ids: SandboxIds | undefined;
}

/**
 * Makes every mapping exist before the command starts. Inside the working directory: inputs are
 * downloaded in place and output directories created. Outside it: each mapping gets a host directory (or
 * the local backend's own file, bound read-only without a copy) and a Bind for the sandbox.
 */
export async function stageMappings(ctx: StagingContext): Promise<Bind[]> {
  const binds: Bind[] = [];
  const { plan } = ctx;
  await Promise.all(
    plan.inputs.map(async (input, i) => {
      if (input.inside) {
        if (!(await leadsInside(input.visible, plan.workDir))) {
          throw new AttemptFailure(
            'InputMappingFailed',
            leadsOutMessage(`InputMapping[${i}]`, input.visible),
          );
        }
        await downloadInput(ctx.blobs, input, input.visible);
        return;
      }
      const local = await directlyBindable(ctx, input);
      if (local) {
        binds.push({ host: local, visible: input.visible, writable: false });
        return;
      }
      const dir = path.join(await ctx.stageDir(), `in-${i}`);
      const host = input.directory ? dir : path.join(dir, path.posix.basename(input.visible));
      await downloadInput(ctx.blobs, input, host);
      binds.push({ host, visible: input.visible, writable: false });
    }),
  );
  for (const [i, output] of plan.outputs.entries()) {
    if (output.inside && !(await leadsInside(output.visible, plan.workDir))) {
      throw new AttemptFailure('OutputUploadFailed', leadsOutMessage(`OutputMapping[${i}]`, output.visible));
    }
    const host = output.inside ? output.visible : path.join(await ctx.stageDir(), `out-${i}`);
    await mkdir(host, { recursive: true });
    if (!output.inside) binds.push({ host, visible: output.visible, writable: true });
  }
  // A log file outside the working directory needs a writable directory at its parent, unless an output
  // mapping (or an earlier log) already provides one.
  for (const [i, log] of plan.logs.entries()) {
    if (log.inside) continue;
    const dir = path.posix.dirname(log.visible);
    if (binds.some((b) => b.writable && isWithin(dir, b.visible))) continue;
    const host = path.join(await ctx.stageDir(), `log-${i}`);
    await mkdir(host, { recursive: true });
    binds.push({ host, visible: dir, writable: true });
  }
  return binds;
}

/**
 * Whether writing at `visible` stays in the working directory. The agent may be root, and mkdir and
 * downloads follow links, so the nearest part of the path that exists (the destination itself, or its
 * closest existing parent) must resolve inside; the parts below it are then made as plain directories
 * (nothing else writes into the working directory while mappings are staged).
 */
async function leadsInside(visible: string, workDir: string): Promise<boolean> {
  for (let p = visible; isWithin(p, workDir); p = path.dirname(p)) {
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
 * The local backend's own file or directory for an input, when the sandbox user can read it: binding it
 * read-only avoids a copy. Anything doubtful falls back to downloading.
 */
async function directlyBindable(ctx: StagingContext, input: InputPlan): Promise<string | undefined> {
  const local = ctx.blobs.localPathOf?.(input.source);
  if (!local) return undefined;
  const st = await stat(local).catch(() => undefined);
  if (!st || (input.directory ? !st.isDirectory() : !st.isFile())) return undefined;
  if (!ctx.ids)
    return (await access(local, constants.R_OK).then(
      () => true,
      () => false,
    ))
      ? local
      : undefined;
  return (await blockedPathFor(local, ctx.ids, input.directory ? 0o5 : 0o4)) === undefined
    ? local
    : undefined;
}
