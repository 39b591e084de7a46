import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { compareKeys } from './keys.js';

/** One regular file found by `walkFiles`. */
export interface WalkedFile {
  /** Path relative to the walked directory, `/`-separated (i.e. an object key suffix). */
  readonly relativePath: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface WalkOptions {
  /** Directories (relative, `/`-separated) to leave out together with everything below them. */
  readonly skipDirectory?: (relativePath: string) => boolean;
}

/**
 * Every regular file under `dir`, sorted by key byte order so uploads and listings are stable.
 * Symbolic links are skipped, never followed: a link could point anywhere on the machine, and
 * following it would upload (or list) files outside the directory the caller named.
 * A missing `dir` yields no files.
 */
export async function walkFiles(dir: string, options: WalkOptions = {}): Promise<WalkedFile[]> {
  const files: WalkedFile[] = [];
  await walkInto(dir, '', options, files);
  return files.sort((a, b) => compareKeys(a.relativePath, b.relativePath));
}

async function walkInto(dir: string, relDir: string, options: WalkOptions, out: WalkedFile[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(path.join(dir, relDir), { withFileTypes: true });
  } catch (err) {
    // Vanished or never existed (e.g. deleted concurrently, or an empty bucket): nothing to walk.
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return;
    throw err;
  }
  for (const entry of entries) {
    const rel = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (options.skipDirectory?.(rel)) continue;
      await walkInto(dir, rel, options, out);
    } else if (entry.isFile()) {
      const stat = await lstat(path.join(dir, rel)).catch((err: unknown) => {
        if (isErrno(err, 'ENOENT')) return undefined;
        throw err;
      });
      if (stat?.isFile()) out.push({ relativePath: rel, size: stat.size, mtimeMs: stat.mtimeMs });
    }
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
