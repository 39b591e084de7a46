/**
 * The numbered result cache of bcs: `shoal job` remembers the rows it printed so that `shoal ch 1`
 * or `shoal log 1` can name a job by its row number (and `shoal job <id> 2` a task).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CliError } from './context.js';

export interface ResultCache {
  jobs: string[];
  tasks?: { jobId: string; names: string[] };
}

export async function loadCache(file: string): Promise<ResultCache> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<ResultCache>;
    return { jobs: Array.isArray(parsed.jobs) ? parsed.jobs.map(String) : [], tasks: parsed.tasks };
  } catch {
    return { jobs: [] };
  }
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
