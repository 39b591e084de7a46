/**
 * The typed client of the Shoal API: the BatchCompute 2015-11-11 operations plus Shoal's additions
 * (logs, objects, events). The CLI, the console and the agent talk to the server only through it.
 */
import type {
  WireAvailable,
  WireCreated,
  WireEvent,
  WireImage,
  WireInstance,
  WireJob,
  WireList,
  WireQuota,
  WireTask,
} from '@shoal/core';
import { followChunks, type FollowLogOptions } from './follow.js';
import { ClusterClient } from './clusters.js';
import { resourcePath } from './query.js';
import { sleep } from './retry.js';
import type { RequestSpec } from './transport.js';
import { isFinalState } from './uri.js';
import type { LogStream, WireImageDescription, WireJobDescription } from './wire-extra.js';
import {
  listQuery,
  pages,
  type ListEventsOptions,
  type ListOptions,
  type WaitForJobOptions,
} from './paging.js';

/**
 * Signed client of a Shoal server.
 *
 * @example
 * const client = new ShoalClient({ endpoint: 'http://127.0.0.1:7720', accessKeyId, accessKeySecret });
 * const { Id } = await client.createJob(description);
 * const job = await client.waitForJob(Id, { onProgress: (j) => console.log(j.State) });
 */
export class ShoalClient extends ClusterClient {
  /** Submits a job; with a token, a retried submission cannot create a second job. @example await client.createJob(desc, { idempotentToken: 'run-42' }) */
  createJob(
    description: WireJobDescription,
    options: { idempotentToken?: string } = {},
  ): Promise<WireCreated> {
    const token = options.idempotentToken;
    return this.json({
      method: 'POST',
      path: '/jobs',
      query: { IdempotentToken: token },
      json: description,
      retry: token !== undefined,
    });
  }

  /** One page of jobs. @example const { Items, NextMarker } = await client.listJobs({ maxItemCount: 10, state: 'Running' }) */
  listJobs(options: ListOptions & { name?: string } = {}): Promise<WireList<WireJob>> {
    const { name, ...paging } = options;
    return this.list({
      method: 'GET',
      path: '/jobs',
      query: { ...listQuery(paging), Name: name || undefined },
    });
  }

  /** Every job, page after page. @example for await (const job of client.jobs({ state: 'Failed' })) console.log(job.Id) */
  jobs(filter: Omit<ListOptions, 'marker'> = {}): AsyncIterable<WireJob> {
    return pages((marker) => this.listJobs({ ...filter, marker }));
  }

  /** A job's status. @example const job = await client.getJob('job-00000000000000000000000000000001') */
  getJob(jobId: string): Promise<WireJob> {
    return this.json({ method: 'GET', path: resourcePath('jobs', jobId) });
  }

  /** The description a job was submitted with. @example const desc = await client.getJobDescription(id) */
  getJobDescription(jobId: string): Promise<WireJobDescription> {
    return this.json({ method: 'GET', path: resourcePath('jobs', jobId), query: { description: '' } });
  }

  /** Stops a waiting or running job. @example await client.stopJob(id) */
  async stopJob(jobId: string): Promise<void> {
    await this.transport.request({ method: 'POST', path: resourcePath('jobs', jobId, 'stop') });
  }

  /** Restarts a stopped or failed job. @example await client.startJob(id) */
  async startJob(jobId: string): Promise<void> {
    await this.transport.request({ method: 'POST', path: resourcePath('jobs', jobId, 'start') });
  }

  /** Changes a job's priority (0..1000, larger first). @example await client.changeJobPriority(id, 100) */
  async changeJobPriority(jobId: string, priority: number): Promise<void> {
    await this.transport.request({
      method: 'PUT',
      path: resourcePath('jobs', jobId),
      json: { Priority: priority },
    });
  }

  /** Deletes a job that is no longer waiting or running. @example await client.deleteJob(id) */
  async deleteJob(jobId: string): Promise<void> {
    await this.transport.request({ method: 'DELETE', path: resourcePath('jobs', jobId) });
  }

  /** One page of a job's tasks. @example const { Items } = await client.listTasks(id) */
  listTasks(jobId: string, options: ListOptions = {}): Promise<WireList<WireTask>> {
    return this.list({
      method: 'GET',
      path: resourcePath('jobs', jobId, 'tasks'),
      query: listQuery(options),
    });
  }

  /** Every task of a job. @example for await (const task of client.tasks(id)) console.log(task.TaskName, task.State) */
  tasks(jobId: string, filter: Omit<ListOptions, 'marker'> = {}): AsyncIterable<WireTask> {
    return pages((marker) => this.listTasks(jobId, { ...filter, marker }));
  }

  /** One task. @example const task = await client.getTask(id, 'count') */
  getTask(jobId: string, taskName: string): Promise<WireTask> {
    return this.json({ method: 'GET', path: resourcePath('jobs', jobId, 'tasks', taskName) });
  }

  /** One page of a task's instances (the marker is an instance number). @example await client.listInstances(id, 'count', { marker: '100' }) */
  listInstances(jobId: string, taskName: string, options: ListOptions = {}): Promise<WireList<WireInstance>> {
    const path = resourcePath('jobs', jobId, 'tasks', taskName, 'instances');
    return this.list({ method: 'GET', path, query: listQuery(options) });
  }

  /** Every instance of a task. @example for await (const i of client.instances(id, 'count')) console.log(i.InstanceId, i.State) */
  instances(
    jobId: string,
    taskName: string,
    filter: Omit<ListOptions, 'marker'> = {},
  ): AsyncIterable<WireInstance> {
    return pages((marker) => this.listInstances(jobId, taskName, { ...filter, marker }));
  }

  /** One instance. @example const inst = await client.getInstance(id, 'count', 2) */
  getInstance(jobId: string, taskName: string, instanceId: number): Promise<WireInstance> {
    return this.json({
      method: 'GET',
      path: resourcePath('jobs', jobId, 'tasks', taskName, 'instances', instanceId),
    });
  }

  /**
   * Registers an image: a root filesystem archive (`oss://.../rootfs.tar.gz`) or `docker://<reference>`
   * in `EcsImageId` (the official clients' field), or Shoal's `RootFsPath` / `Docker: {Image, ArchivePath}`.
   * @example const { Id } = await client.createImage({ Name: 'py', Platform: 'Linux', EcsImageId: 'oss://imgs/py.tar.gz' })
   */
  createImage(
    description: WireImageDescription,
    options: { idempotentToken?: string } = {},
  ): Promise<WireCreated> {
    const token = options.idempotentToken;
    return this.json({
      method: 'POST',
      path: '/images',
      query: { IdempotentToken: token },
      json: description,
      retry: token !== undefined,
    });
  }

  /** One page of your images, or of the system images. @example const { Items } = await client.listImages({ system: true }) */
  listImages(options: ListOptions & { system?: boolean } = {}): Promise<WireList<WireImage>> {
    return this.list({
      method: 'GET',
      path: '/images',
      query: { ...listQuery(options), Type: options.system ? 'System' : undefined },
    });
  }

  /** One image. @example const image = await client.getImage('img-ubuntu') */
  getImage(imageId: string): Promise<WireImage> {
    return this.json({ method: 'GET', path: resourcePath('images', imageId) });
  }

  /** Deletes one of your images; jobs already accepted keep running in it. @example await client.deleteImage(id) */
  async deleteImage(imageId: string): Promise<void> {
    await this.transport.request({ method: 'DELETE', path: resourcePath('images', imageId) });
  }

  /** The account's quotas. @example const quota = await client.getQuotas() */
  getQuotas(): Promise<WireQuota> {
    return this.json({ method: 'GET', path: '/quotas' });
  }

  /** Instance types and resource kinds on offer. @example const { AvailableClusterInstanceType } = await client.getAvailable() */
  getAvailable(): Promise<WireAvailable> {
    return this.json({ method: 'GET', path: '/available' });
  }

  /** The log of an instance's latest attempt, as text. @example process.stdout.write(await client.readLog(id, 'task', 0, 'stdout')) */
  async readLog(
    jobId: string,
    taskName: string,
    instanceId: number,
    stream: LogStream = 'stdout',
    options: { offset?: number } = {},
  ): Promise<string> {
    const response = await this.transport.request(
      this.logSpec(jobId, taskName, instanceId, stream, false, options.offset),
    );
    return new TextDecoder().decode(response.body);
  }

  /**
   * The log of an instance's latest attempt as it is written, until the attempt ends.
   * @example for await (const chunk of client.followLog(id, 'task', 0, 'stdout')) process.stdout.write(chunk)
   */
  followLog(
    jobId: string,
    taskName: string,
    instanceId: number,
    stream: LogStream = 'stdout',
    options: FollowLogOptions = {},
  ): AsyncIterable<Uint8Array> {
    return followChunks(
      this.transport,
      (offset) => this.logSpec(jobId, taskName, instanceId, stream, true, offset),
      options,
    );
  }

  /** One page of events after a sequence number. @example const { Items } = await client.listEvents({ after: lastSeq }) */
  listEvents(options: ListEventsOptions = {}): Promise<WireList<WireEvent>> {
    return this.list({
      method: 'GET',
      path: '/events',
      query: {
        After: options.after,
        Order: options.order,
        Before: options.before,
        MaxItemCount: options.maxItemCount,
      },
    });
  }

  /**
   * Polls a job until it is Finished, Failed or Stopped and returns that final state.
   * @example const job = await client.waitForJob(id, { intervalMs: 500, signal: AbortSignal.timeout(60_000) })
   */
  async waitForJob(jobId: string, options: WaitForJobOptions = {}): Promise<WireJob> {
    for (;;) {
      options.signal?.throwIfAborted();
      const job = await this.getJob(jobId);
      options.onProgress?.(job);
      if (isFinalState(job.State)) return job;
      await sleep(options.intervalMs ?? 1000, options.signal);
    }
  }

  private logSpec(
    jobId: string,
    taskName: string,
    instanceId: number,
    stream: LogStream,
    follow: boolean,
    offset?: number,
  ): RequestSpec {
    const path = resourcePath('jobs', jobId, 'tasks', taskName, 'instances', instanceId, 'log');
    return {
      method: 'GET',
      path,
      query: { stream, follow: follow ? 'true' : undefined, offset: offset || undefined },
    };
  }
}
