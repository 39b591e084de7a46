/**
 * The numbered result cache of bcs: `shoal job` remembers the rows it printed so that `shoal ch 1`
 * or `shoal log 1` can name a job by its row number (and `shoal job <id> 2` a task).
 *
 * A row number is used only while that listing is still what the user saw: it is bound to the server and
 * key it was listed with, and any command that adds or removes jobs (sub, cj, dj; whether or not it
 * succeeded) retires it, so `dj 1` can never reach a job other than the one printed in row 1.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Session } from './connection.js';
import { CliError } from './context.js';

export interface ResultCache {
  jobs: string[];
  tasks?: { jobId: string; names: string[] };
  /** The server and key the rows were listed with. */
  listedFor?: string;
  /** Why the job rows no longer hold (what changed the job list since), if they do not. */
  retired?: string;
}

/** Whom a listing belongs to: the same rows mean other jobs on another server or for another user. */
export function listingOwner(session: Pick<Session, 'connection'>): string {
  return `${session.connection.endpoint} ${session.connection.accessKeyId}`;
}

/**
 * The cache at `file`. With `owner`, job rows listed for someone else (another server or key) are
 * retired rather than used.
 */
export async function loadCache(file: string, owner?: string): Promise<ResultCache> {
  let cache: ResultCache;
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<ResultCache>;
    cache = {
      jobs: Array.isArray(parsed.jobs) ? parsed.jobs.map(String) : [],
      tasks: parsed.tasks,
      ...(typeof parsed.listedFor === 'string' ? { listedFor: parsed.listedFor } : {}),
      ...(typeof parsed.retired === 'string' ? { retired: parsed.retired } : {}),
    };
  } catch {
    return { jobs: [] };
  }
  if (owner && cache.listedFor && cache.listedFor !== owner && cache.jobs.length > 0 && !cache.retired)
    cache.retired = `it was printed for ${cache.listedFor.split(' ')[0]}, not this server and key`;
  return cache;
}

/** The cache of a session (rows of other servers and keys retired). */
export function sessionCache(session: Pick<Session, 'cacheFile' | 'connection'>): Promise<ResultCache> {
  return loadCache(session.cacheFile, listingOwner(session));
}

/** Records that the job list changed (`what`, e.g. `job-… was created`): earlier row numbers no longer hold. */
export async function retireJobRows(
  session: Pick<Session, 'cacheFile' | 'connection'>,
  what: string,
): Promise<void> {
  const cache = await loadCache(session.cacheFile);
  if (cache.jobs.length === 0 || cache.retired) return;
  await saveCache(session.cacheFile, { ...cache, retired: what });
}

/** Writes the cache atomically; a failure to write is not worth failing the listing for. */
export async function saveCache(file: string, cache: ResultCache): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(cache), { mode: 0o600 });
    await rename(tmp, file);
  } catch {
    // The cache is a convenience only.
  }
}

const ROW = /^\d+$/;

/** A job id as given, or the id printed in that row of the last `shoal job` listing. */
export function resolveJobRef(ref: string, cache: ResultCache): string {
  if (!ROW.test(ref)) return ref;
  if (cache.retired)
    throw new CliError(
      `row ${ref} of the last "shoal job" listing no longer holds (${cache.retired}): run "shoal job" again, or give the job id`,
    );
  const id = cache.jobs[Number(ref) - 1];
  if (!id) throw new CliError(`no job in row ${ref} of the last listing: run "shoal job" first`);
  return id;
}

/**
 * A task name as given, or the task in that row of the job's task table (as `shoal job <id>` prints
 * it). `listNames` is asked only when the cache holds another job's rows; a task actually named like
 * a number wins over the row.
 */
export async function resolveTaskRef(
  jobId: string,
  ref: string,
  cache: ResultCache,
  listNames: () => Promise<string[]>,
): Promise<string> {
  if (!ROW.test(ref)) return ref;
  const names = cache.tasks?.jobId === jobId ? cache.tasks.names : await listNames();
  if (names.includes(ref)) return ref;
  const name = names[Number(ref) - 1];
  if (!name) throw new CliError(`no task in row ${ref} of job ${jobId} (it has ${names.length})`);
  return name;
}
