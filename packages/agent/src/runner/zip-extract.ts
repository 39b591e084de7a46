import { constants } from 'node:fs';
import { mkdir, open, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { ArchiveGuard } from './archive-guard.js';
import { ExtractError } from './tar-extract.js';

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const MAX_SYMLINK_TARGET = 4096;
// O_NOFOLLOW: even a symlink this extraction did not see (there should be none) is never written through.
const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

/**
 * Unpacks a zip file into `dir` with the same refusals as tar packages. yauzl validates names itself
 * (absolute paths, `..`); the guard adds symlink checks. Unix modes are kept (without setuid bits) so
 * that `./run.sh` stays executable.
 */
export async function extractZip(file: string, dir: string): Promise<void> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true, validateEntrySizes: true }, (err, z) => {
      if (err || !z)
        reject(new ExtractError('archive', `not a readable zip file: ${err?.message ?? 'unknown error'}`));
      else resolve(z);
    });
  });
  const guard = new ArchiveGuard();
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (err: Error) => reject(new ExtractError('archive', err.message)));
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        extractEntry(zip, entry, dir, guard).then(
          () => zip.readEntry(),
          (err: Error) =>
            reject(err instanceof ExtractError ? err : new ExtractError('archive', err.message)),
        );
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

async function extractEntry(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  dir: string,
  guard: ArchiveGuard,
): Promise<void> {
  const name = entry.fileName;
  if (name.endsWith('/') && guard.isRoot(name)) return;
  const rel = guard.entryPath(name);
  const dest = rel === '' ? dir : path.join(dir, rel);
  const unixMode = (entry.externalFileAttributes >>> 16) & 0xffff;
  if (name.endsWith('/')) {
    await mkdir(dest, { recursive: true });
    return;
  }
  if (rel === '') throw new Error(`entry ${JSON.stringify(name)} would replace the package root`);
  await mkdir(path.dirname(dest), { recursive: true });
  const stream = await openEntry(zip, entry);
  if ((unixMode & S_IFMT) === S_IFLNK) {
    const target = (await readAll(stream, MAX_SYMLINK_TARGET)).toString('utf8');
    guard.symlink(name, target);
    await symlink(target, dest);
    return;
  }
  if ((unixMode & S_IFMT) !== 0 && (unixMode & S_IFMT) !== S_IFREG) {
    stream.destroy();
    throw new Error(`entry ${JSON.stringify(name)} is not a regular file, directory or symlink`);
  }
  const mode = unixMode & 0o777 || 0o644;
  let handle;
  try {
    handle = await open(dest, WRITE_FLAGS, mode);
  } catch (err) {
    stream.destroy();
    throw err;
  }
  // The write stream owns the handle and closes it, on success and on error.
  await pipeline(stream, handle.createWriteStream());
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) reject(err ?? new Error(`cannot read entry ${entry.fileName}`));
      else resolve(stream);
    });
  });
}

async function readAll(stream: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > maxBytes) {
      stream.destroy();
      throw new Error(`symlink target longer than ${maxBytes} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}
