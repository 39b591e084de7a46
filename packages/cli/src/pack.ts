/**
 * Worker packages for `-p/--pack` and job.cfg `pack`: a gzipped tar built in memory and uploaded
 * through the server. A single directory is packed by its contents (they land at the archive root,
 * where the task's command line runs); files and directories listed together land under their own names.
 */
import { mkdtemp, readdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { create } from 'tar';
import { JobConfigError } from './jobcfg/pairs.js';

async function tarGz(cwd: string, entries: string[], follow: boolean): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  const stream = create({ gzip: true, portable: true, cwd, follow }, entries);
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * Packs absolute `paths` into a .tar.gz and returns its bytes.
 *
 * @example
 * const bytes = await packToTarGz(['/home/me/log-count']); // split.py, count.py, ... at the root
 */
export async function packToTarGz(paths: readonly string[]): Promise<Uint8Array> {
  if (paths.length === 0) throw new JobConfigError('pack: no path given');
  const kinds = await Promise.all(
    paths.map(async (path) => {
      try {
        return await stat(path);
      } catch {
        throw new JobConfigError(`pack: ${path} does not exist`);
      }
    }),
  );
  if (paths.length === 1 && kinds[0]!.isDirectory()) {
    const entries = (await readdir(paths[0]!)).sort();
    if (entries.length === 0) throw new JobConfigError(`pack: directory ${paths[0]} is empty`);
    return tarGz(paths[0]!, entries, false);
  }
  const names = paths.map((path) => basename(path));
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate)
    throw new JobConfigError(`pack: two paths are named ${duplicate}; the archive root needs unique names`);
  const parents = new Set(paths.map((path) => dirname(path)));
  if (parents.size === 1) return tarGz([...parents][0]!, names, false);
  // Paths from different folders: gather them by name under one temporary folder of symlinks.
  const staging = await mkdtemp(join(tmpdir(), 'shoal-pack-'));
  try {
    await Promise.all(paths.map((path, i) => symlink(path, join(staging, names[i]!))));
    return await tarGz(staging, names, true);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
