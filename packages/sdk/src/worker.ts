/**
 * The worker protocol, agent side (docs/api.md, "Worker protocol"): what `shoal agent` sends with its
 * worker token. Assignments and results travel in the domain shapes of @shoal/core; objects are read and
 * written only for the attempts the worker holds, streamed, never buffered whole.
 */
import type { Assignment, AttemptResult, ExchangeOptions } from '@shoal/core';
import { ClientBase } from './base.js';
import { encodeObjectKey, resourcePath } from './query.js';
import { splitObjectUri } from './uri.js';
import type { ShoalClientOptions } from './options.js';
import type { WireObjectList } from './wire-extra.js';

export interface WorkerRegistration {
  workerId: string;
  group: string;
  hostname: string;
  slots: number;
}

/** A worker's client: one cluster, one worker token. */
export class WorkerClient extends ClientBase {
  private workerId = '';

  constructor(
    options: Omit<ShoalClientOptions, 'accessKeyId' | 'accessKeySecret'> & { workerToken: string },
    readonly clusterId: string,
  ) {
    super({ ...options, accessKeyId: '', accessKeySecret: '' });
  }

  private base(): string {
    if (!this.workerId) throw new Error('the worker is not registered yet');
    return resourcePath('clusters', this.clusterId, 'workers', this.workerId);
  }

  /** Joins the cluster (again, after a restart: what it ran before is re-queued). */
  async register(
    r: WorkerRegistration,
  ): Promise<{ WorkerId: string; Group: string; LeaseMs: number; Requeued: string[] }> {
    const reply = await this.json<{ WorkerId: string; Group: string; LeaseMs: number; Requeued: string[] }>({
      method: 'POST',
      path: resourcePath('clusters', this.clusterId, 'workers'),
      json: { WorkerId: r.workerId, Group: r.group, Hostname: r.hostname, Slots: r.slots },
      retry: true,
    });
    this.workerId = reply.WorkerId;
    return reply;
  }

  /**
   * Reports ended attempts and claims up to `want` new ones (see ExchangeOptions: attempts claimed ahead
   * and given back). Not retried: a lost reply is a lost claim.
   */
  async exchange(
    results: readonly AttemptResult[],
    want: number,
    options: ExchangeOptions = {},
  ): Promise<Assignment[]> {
    const reply = await this.json<{ Assignments: Assignment[] }>({
      method: 'POST',
      path: `${this.base()}/exchange`,
      json: {
        Results: results,
        Want: want,
        ...(options.ahead ? { Ahead: options.ahead } : {}),
        ...(options.returned?.length ? { Returned: options.returned } : {}),
      },
      retry: want === 0,
    });
    return reply.Assignments;
  }

  heartbeat(attemptIds: readonly string[]): Promise<{ Cancel: string[]; Drain: boolean }> {
    return this.json({
      method: 'POST',
      path: `${this.base()}/heartbeat`,
      json: { AttemptIds: attemptIds },
      retry: true,
    });
  }

  /** Leaves the cluster for good (after draining). */
  async leave(): Promise<void> {
    await this.send({ method: 'DELETE', path: this.base(), retry: true });
  }

  /**
   * Acts as an already registered worker of the cluster (a Slurm array element acts for the server's
   * dispatcher of its cluster, which claimed the attempt it runs).
   */
  actAs(workerId: string): void {
    this.workerId = workerId;
  }

  /** The attempt this worker holds of one instance, that attempt exactly (404 ShoalApiError otherwise). */
  heldAssignment(
    jobId: string,
    taskName: string,
    instanceId: number,
    attemptNo: number,
  ): Promise<Assignment> {
    return this.json({
      method: 'GET',
      path: `${this.base()}/assignment`,
      query: { JobId: jobId, TaskName: taskName, InstanceId: instanceId, AttemptNo: attemptNo },
      retry: true,
    });
  }

  /** Waits (long poll) until the scheduler has news for workers, or `waitMs` passes. */
  waitForSignal(waitMs: number, signal?: AbortSignal): Promise<{ Work: boolean; Cancel: boolean }> {
    return this.json({
      method: 'GET',
      path: `${this.base()}/signals`,
      query: { WaitMs: waitMs },
      ...(signal ? { signal } : {}),
    });
  }

  /** Sends an attempt's stdout or stderr log to the server, which serves it to users. */
  async putLog(
    attemptId: string,
    stream: 'stdout' | 'stderr',
    body: () => ReadableStream<Uint8Array>,
  ): Promise<void> {
    await this.send({
      method: 'PUT',
      path: `${this.base()}/logs/${encodeURIComponent(attemptId)}/${stream}`,
      stream: body,
    });
  }

  private objectPath(uri: string): string {
    const { bucket, key } = splitObjectUri(uri);
    return `${this.base()}/objects/${encodeURIComponent(bucket)}/${encodeObjectKey(key)}`;
  }

  /** An object's bytes as a response to stream from (404 ShoalApiError when absent). */
  openObject(uri: string): Promise<Response> {
    return this.transport.open({ method: 'GET', path: this.objectPath(uri) });
  }

  /** Size and time of an object, or undefined when there is none. */
  async headObject(uri: string): Promise<{ size: number; lastModifiedMs: number } | undefined> {
    try {
      const { headers } = await this.transport.request({ method: 'HEAD', path: this.objectPath(uri) });
      return {
        size: Number(headers.get('content-length') ?? 0),
        lastModifiedMs: Date.parse(headers.get('last-modified') ?? '') || 0,
      };
    } catch (err) {
      if ((err as { status?: number }).status === 404) return undefined;
      throw err;
    }
  }

  async putObject(uri: string, body: () => ReadableStream<Uint8Array>): Promise<void> {
    await this.send({ method: 'PUT', path: this.objectPath(uri), stream: body });
  }

  async listObjects(
    prefixUri: string,
    options: { delimiter?: string; marker?: string; maxItemCount?: number } = {},
  ): Promise<WireObjectList> {
    const { bucket, key } = splitObjectUri(prefixUri);
    const page = await this.json<WireObjectList | undefined>({
      method: 'GET',
      path: `${this.base()}/objects/${encodeURIComponent(bucket)}`,
      query: {
        Prefix: key === '' ? undefined : key,
        Delimiter: options.delimiter,
        Marker: options.marker,
        MaxItemCount: options.maxItemCount,
      },
    });
    return {
      NextMarker: String(page?.NextMarker ?? ''),
      Items: page?.Items ?? [],
      Prefixes: page?.Prefixes ?? [],
    };
  }
}
