/**
 * Who may touch which object bucket. A bucket belongs to the first user who writes to it (through the
 * object API or by naming it in a job); the admin may use any bucket. Another user's bucket, and for
 * non-admins a bucket nobody claimed yet, looks absent: NotFound, so bucket names do not leak.
 */
import type { Clock, JobSpec, ObjectUri, Store } from '@shoal/core';
import { invalidJob, notFound, parseObjectUri } from '@shoal/core';
import type { Caller } from './caller.js';

function hidden(uri: ObjectUri): Error {
  return uri.key ? notFound('object', `oss://${uri.bucket}/${uri.key}`) : notFound('bucket', uri.bucket);
}

/** Every `oss://` (or `s3://`) path a job names, with the wire field that holds it. */
export function referencedObjects(spec: JobSpec): { field: string; uri: string }[] {
  const out: { field: string; uri: string }[] = [];
  const add = (field: string, uri: string) => {
    if (/^(oss|s3):\/\//.test(uri)) out.push({ field, uri });
  };
  for (const task of spec.tasks) {
    const at = `DAG.Tasks.${task.name}`;
    add(`${at}.Parameters.Command.PackagePath`, task.packagePath);
    add(`${at}.Parameters.StdoutRedirectPath`, task.stdoutRedirectPath);
    add(`${at}.Parameters.StderrRedirectPath`, task.stderrRedirectPath);
    for (const m of task.mounts ?? []) add(`${m.field}.Source`, m.source);
    for (const m of task.inputMappings) add(`${at}.InputMapping[${JSON.stringify(m.source)}]`, m.source);
    for (const m of task.outputMappings)
      add(`${at}.OutputMapping[${JSON.stringify(m.source)}]`, m.destination);
    for (const m of task.logMappings) add(`${at}.LogMapping[${JSON.stringify(m.source)}]`, m.destination);
    if (task.docker?.archive)
      add(`${at}.Parameters.Command.EnvVars.BATCH_COMPUTE_DOCKER_REGISTRY_OSS_PATH`, task.docker.archive);
  }
  return out;
}

export class ObjectAccess {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** For reads, listings and deletes: the bucket must be the caller's (any bucket for the admin). */
  async checkRead(caller: Caller, uri: ObjectUri): Promise<void> {
    if (caller.admin) return;
    const owner = await this.store.getBucketOwner(uri.bucket);
    if (owner !== caller.ownerId) throw hidden(uri);
  }

  /** For writes: claims the bucket when nobody has; refuses another user's bucket as if absent. */
  async checkWrite(caller: Caller, uri: ObjectUri): Promise<void> {
    const owner = await this.store.claimBucket(uri.bucket, caller.ownerId, this.clock.nowUs());
    if (!caller.admin && owner !== caller.ownerId) throw hidden(uri);
  }

  /** At submit: every bucket a job names must be the submitter's (or free, and then becomes theirs). */
  async checkJob(caller: Caller, spec: JobSpec): Promise<void> {
    for (const { field, uri } of referencedObjects(spec)) {
      const bucket = parseObjectUri(uri).bucket;
      const owner = await this.store.claimBucket(bucket, caller.ownerId, this.clock.nowUs());
      if (!caller.admin && owner !== caller.ownerId)
        throw invalidJob(field, uri, `bucket ${bucket} belongs to another user`);
    }
  }
}
