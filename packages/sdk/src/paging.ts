/**
 * Option types of the list and wait operations, and marker-based paging (spec §6.10): a page's
 * `NextMarker` starts the next page, '' ends the listing.
 */
import type { WireJob, WireList } from '@shoal/core';
import type { QueryParams } from './query.js';

/** Paging and filtering of the list operations. */
export interface ListOptions {
  /** Start of the page: the NextMarker of the previous page. */
  marker?: string;
  maxItemCount?: number;
  /** Only items in this state (Waiting, Running, Finished, Failed, Stopped). */
  state?: string;
}

/** Paging of {@link ShoalClient.listObjects}. */
export interface ListObjectsOptions {
  delimiter?: string;
  marker?: string;
  maxItemCount?: number;
}

/** Paging of {@link ShoalClient.listEvents}. */
export interface ListEventsOptions {
  /** Only events with a sequence number greater than this (oldest first). */
  after?: number;
  /** `desc`: the newest events first (a look back rather than a cursor to follow). */
  order?: 'asc' | 'desc';
  /** With `order: 'desc'`: only events with a sequence number smaller than this (the previous NextMarker). */
  before?: number;
  maxItemCount?: number;
}

/** Options of {@link ShoalClient.waitForJob}. */
export interface WaitForJobOptions {
  /** Time between polls (default 1000 ms). */
  intervalMs?: number;
  /** Called with every polled state of the job, the final one included. */
  onProgress?: (job: WireJob) => void;
  signal?: AbortSignal;
}

/**
 * The query of a list operation.
 *
 * @example listQuery({ maxItemCount: 10 }) // { Marker: undefined, MaxItemCount: 10, State: undefined }
 */
export function listQuery(options: ListOptions): QueryParams {
  return { Marker: options.marker, MaxItemCount: options.maxItemCount, State: options.state };
}

/**
 * A list response as the client hands it out: NextMarker always a string, Items always an array.
 * The Python SDK accepts a bare array too (spec §6.10); it is tolerated the same way.
 *
 * @example normalizeList([{ Id: 'job-1' }]) // { NextMarker: '', Items: [{ Id: 'job-1' }] }
 */
export function normalizeList<T>(page: WireList<T> | T[] | undefined): WireList<T> {
  if (Array.isArray(page)) return { NextMarker: '', Items: page };
  return { NextMarker: page?.NextMarker == null ? '' : String(page.NextMarker), Items: page?.Items ?? [] };
}

/**
 * Every item of a paged listing, fetching pages as the consumer advances. A marker seen twice ends the
 * listing instead of looping forever on a server that repeats itself.
 *
 * @example for await (const job of pages((marker) => client.listJobs({ marker }))) console.log(job.Id)
 */
export async function* pages<T>(
  fetchPage: (marker: string | undefined) => Promise<WireList<T>>,
): AsyncGenerator<T, void, undefined> {
  const seen = new Set<string>();
  let marker: string | undefined;
  for (;;) {
    const page = await fetchPage(marker);
    yield* page.Items;
    if (!page.NextMarker || seen.has(page.NextMarker)) return;
    seen.add(page.NextMarker);
    marker = page.NextMarker;
  }
}
