/**
 * What objects a worker may touch: only those of the attempts it holds. Reads: each attempt's package,
 * input mapping sources, oss:// mounts and image archive; writes: its output and log mapping
 * destinations and its stdout/stderr redirect folders. A name ending in '/' covers what lies under it.
 */
import type { ClaimedAttempt, ObjectUri } from '@shoal/core';
import { objectUriProblem, parseObjectUri, taskImage } from '@shoal/core';

export interface ObjectScope {
  readonly read: readonly ObjectUri[];
  readonly write: readonly ObjectUri[];
}

function uris(texts: readonly string[]): ObjectUri[] {
  return texts.filter((t) => t !== '' && objectUriProblem(t) === undefined).map(parseObjectUri);
}

export function scopeOf(held: readonly ClaimedAttempt[]): ObjectScope {
  const read: string[] = [];
  const write: string[] = [];
  for (const { task } of held) {
    const image = taskImage(task);
    read.push(
      task.packagePath,
      ...task.inputMappings.map((m) => m.source),
      ...(task.mounts ?? []).map((m) => m.source).filter((s) => /^(oss|s3):\/\//.test(s)),
      image.kind === 'RootFs' ? image.source : image.archive,
    );
    write.push(
      ...task.outputMappings.map((m) => m.destination),
      ...task.logMappings.map((m) => m.destination),
      task.stdoutRedirectPath,
      task.stderrRedirectPath,
    );
  }
  // What an attempt writes it may read back (uploads check what is there first).
  return { read: uris([...read, ...write]), write: uris(write) };
}

/** Whether `uri` (an object, or a prefix being listed) lies within one of `allowed`. */
export function covers(allowed: readonly ObjectUri[], uri: ObjectUri): boolean {
  return allowed.some(
    (a) =>
      a.bucket === uri.bucket && (a.key === uri.key || (a.key.endsWith('/') && uri.key.startsWith(a.key))),
  );
}
