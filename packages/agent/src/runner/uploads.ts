import { lstat } from 'node:fs/promises';
import { joinObjectUri, parseObjectUri, type Assignment, type BlobStore } from '@shoal/core';
import { logObjectKey, staysWithin, type MappingPlan } from './mappings.js';
import { AttemptFailure } from './results.js';

/** Maps a path as the program saw it to the host path and the host directory it must stay within. */
export type HostResolver = (visible: string) => { host: string; root: string } | undefined;

export interface UploadReport {
  /** The first upload that failed (later ones are still attempted). */
  failure: AttemptFailure | undefined;
  notes: string[];
}

/**
 * Output directories go up only after a successful command: outputs of the attempt that succeeded are
 * the ones kept, and a failed attempt (which may be retried) leaves nothing half-written behind.
 */
export async function uploadOutputs(
  plan: MappingPlan,
  resolve: HostResolver,
  blobs: BlobStore,
  report: UploadReport,
): Promise<void> {
  for (const [i, output] of plan.outputs.entries()) {
    const where = resolve(output.visible);
    const what = `OutputMapping[${i}] ${output.visible}`;
    try {
      if (!where || !(await staysWithin(where.host, where.root))) {
        throw new Error('the directory is missing or was replaced by a link leading elsewhere');
      }
      const count = await blobs.uploadDirectory(where.host, output.destination);
      report.notes.push(`uploaded ${count} file(s) from ${output.visible}`);
    } catch (err) {
      note(report, 'OutputUploadFailed', `${what} could not be uploaded: ${errorText(err)}`);
    }
  }
}

/** Log files (LogMapping) go up whether the command succeeded or not. A missing log file is only noted. */
export async function uploadLogs(
  plan: MappingPlan,
  resolve: HostResolver,
  blobs: BlobStore,
  a: Assignment,
  report: UploadReport,
): Promise<void> {
  for (const log of plan.logs) {
    const where = resolve(log.visible);
    const st = where ? await lstat(where.host).catch(() => undefined) : undefined;
    if (!where || !st) {
      report.notes.push(`log file ${log.visible} not found; not uploaded`);
      continue;
    }
    if (!st.isFile() || !(await staysWithin(where.host, where.root))) {
      report.notes.push(`log file ${log.visible} is not a regular file; not uploaded`);
      continue;
    }
    try {
      await blobs.uploadFile(where.host, joinObjectUri(log.destination, logObjectKey(log.visible, a)));
    } catch (err) {
      note(report, 'LogUploadFailed', `log file ${log.visible} could not be uploaded: ${errorText(err)}`);
    }
  }
}

/** stdout/stderr go to the full object URIs of the assignment ('' = keep them local only). */
export async function uploadStreams(
  a: Assignment,
  io: { stdoutFile: string; stderrFile: string },
  blobs: BlobStore,
  report: UploadReport,
): Promise<void> {
  const streams: Array<[string, string, string]> = [
    ['stdout', io.stdoutFile, a.stdoutRedirectPath],
    ['stderr', io.stderrFile, a.stderrRedirectPath],
  ];
  for (const [name, file, target] of streams) {
    if (target === '') continue;
    try {
      // The attempt's log files are never written again once it ended: the store may take them as they are.
      await blobs.uploadFile(file, parseObjectUri(target), { handOver: true });
    } catch (err) {
      note(report, 'LogUploadFailed', `${name} could not be uploaded to ${target}: ${errorText(err)}`);
    }
  }
}

/** The real path (links followed) must stay inside the mapping's host directory: the agent may be root. */
function note(report: UploadReport, code: 'OutputUploadFailed' | 'LogUploadFailed', message: string): void {
  report.failure ??= new AttemptFailure(code, message);
  report.notes.push(message);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
