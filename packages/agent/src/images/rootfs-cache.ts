/**
 * Root filesystem images on this worker: each archive is downloaded and unpacked once, cached by the
 * SHA-256 of its bytes, and shared read-only by every sandbox that runs in it (each attempt gets a
 * writable layer of its own, see attempt-root.ts). An object that did not change (same ETag, size and
 * modification time) is not downloaded again.
 *
 * Layout (root-only, mode 0700): `<cache>/rootfs/<sha256>/` the unpacked tree, `<sha256>.ready` once it is
 * complete, `<cache>/sources/<sha1 of uri and version>` the digest of what that object held, and
 * `<cache>/tmp/` for downloads and unpacking in progress.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, realpath, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extract, type ReadEntry } from 'tar';
import { isShoalError, parseObjectUri, type BlobStore } from '@shoal/core';
import { AttemptFailure } from '../runner/results.js';

/** Entries a root filesystem may hold that cannot be made here, or need not be: the sandbox has its own /dev. */
const SKIPPED = new Set(['CharacterDevice', 'BlockDevice', 'FIFO']);

export class RootfsCache {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    private readonly root: string,
    private readonly blobs: BlobStore,
  ) {}

  /** The unpacked tree of `uri`, downloading and unpacking it first when this worker has not yet. */
  rootfsOf(uri: string): Promise<string> {
    let pending = this.inFlight.get(uri);
    if (!pending) {
      pending = this.resolve(uri).finally(() => this.inFlight.delete(uri));
      this.inFlight.set(uri, pending);
    }
    return pending;
  }

  private async resolve(text: string): Promise<string> {
    const uri = parseObjectUri(text);
    const info = await this.blobs.headObject(uri).catch((err: unknown) => {
      throw imageFailure(text, err);
    });
    if (!info) throw new AttemptFailure('ImageUnavailable', `image archive ${text} not found`);
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const version = createHash('sha1')
      .update(`${text}\u0000${info.etag ?? ''}\u0000${info.size}\u0000${info.lastModifiedMs}`)
      .digest('hex');
    const sourceFile = path.join(this.root, 'sources', version);
    const known = await readFile(sourceFile, 'utf8').catch(() => '');
    if (known && (await this.ready(known))) return this.treeOf(known);

    const tmp = path.join(this.root, 'tmp');
    await mkdir(tmp, { recursive: true, mode: 0o700 });
    const scratch = path.join(tmp, randomBytes(8).toString('hex'));
    try {
      const archive = `${scratch}.archive`;
      const digest = await this.download(text, archive);
      if (!(await this.ready(digest))) {
        const unpacked = `${scratch}.rootfs`;
        await mkdir(unpacked, { mode: 0o755 });
        await unpackRootfs(archive, unpacked, text);
        await mkdir(path.join(this.root, 'rootfs'), { recursive: true, mode: 0o700 });
        // Another process may have unpacked the same bytes meanwhile: then its tree is kept.
        await rename(unpacked, this.treeOf(digest)).catch(async (err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST' && err.code !== 'ENOTEMPTY') throw err;
          await rm(unpacked, { recursive: true, force: true });
        });
        await writeFile(`${this.treeOf(digest)}.ready`, '');
      }
      await mkdir(path.dirname(sourceFile), { recursive: true, mode: 0o700 });
      await writeFile(sourceFile, digest);
      return this.treeOf(digest);
    } finally {
      await rm(`${scratch}.archive`, { force: true });
      await rm(`${scratch}.rootfs`, { recursive: true, force: true });
    }
  }

  private treeOf(digest: string): string {
    return path.join(this.root, 'rootfs', digest);
  }

  private async ready(digest: string): Promise<boolean> {
    return stat(`${this.treeOf(digest)}.ready`).then(
      () => true,
      () => false,
    );
  }

  /** Downloads the archive, hashing it on the way; returns the SHA-256 hex digest. */
  private async download(text: string, file: string): Promise<string> {
    const hash = createHash('sha256');
    try {
      const source = await this.blobs.getObject(parseObjectUri(text));
      source.on('data', (chunk: Buffer) => hash.update(chunk));
      await pipeline(source, createWriteStream(file, { mode: 0o600 }));
    } catch (err) {
      throw imageFailure(text, err);
    }
    return hash.digest('hex');
  }
}

/**
 * Unpacks a root filesystem as root, keeping owners and modes (the sandbox maps the tree's root to its
 * own). Paths stay inside the tree (no absolute paths, no '..'). Symbolic links are made last, exactly
 * as archived (absolute targets are normal in a root filesystem and resolve inside the sandbox; node-tar
 * would rewrite them): so no entry is ever written through one, and a link is only made where every
 * directory on its way is a real one inside the tree.
 */
async function unpackRootfs(archive: string, dir: string, text: string): Promise<void> {
  const problems: string[] = [];
  const links: { at: string; target: string }[] = [];
  try {
    // tar.x with a file reads it (gzip or not, detected) and settles once every entry is written.
    await extract({
      file: archive,
      cwd: dir,
      preserveOwner: true,
      strict: false,
      filter: (name, entry) => {
        const e = entry as ReadEntry;
        if (e.type === 'SymbolicLink') {
          links.push({ at: name, target: String(e.linkpath ?? '') });
          return false;
        }
        return !SKIPPED.has(e.type);
      },
      // Bad entries are skipped and counted rather than failing on the first: a tree missing files
      // would break the tasks, so any problem still refuses the image, with the first few named.
      onwarn: (code, message) => {
        if (code !== 'TAR_ENTRY_INFO' && problems.length < 5) problems.push(String(message));
      },
    });
    for (const link of links) {
      const problem = await makeLink(dir, link.at, link.target);
      if (problem && problems.length < 5) problems.push(problem);
    }
  } catch (err) {
    throw new AttemptFailure(
      'ImageUnavailable',
      `image archive ${text} could not be unpacked: ${(err as Error).message}`,
    );
  }
  if (problems.length)
    throw new AttemptFailure(
      'ImageUnavailable',
      `image archive ${text} could not be unpacked: ${problems.join('; ')}`,
    );
}

/** Makes one symbolic link of the tree; a problem (as text) when its place is not a plain one inside. */
async function makeLink(root: string, name: string, target: string): Promise<string | undefined> {
  const rel = path.posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (rel === '.' || rel === '' || rel.startsWith('../') || rel === '..')
    return `link ${name} leaves the tree`;
  const at = path.join(root, rel);
  const parent = path.dirname(at);
  await mkdir(parent, { recursive: true, mode: 0o755 });
  // Every directory on the way must be a real one: a link made earlier must not lead this one elsewhere.
  if ((await realpath(parent)) !== parent) return `link ${name} would be made through another link`;
  await rm(at, { force: true });
  await symlink(target, at);
  return undefined;
}

function imageFailure(text: string, err: unknown): AttemptFailure {
  if (isShoalError(err) && err.code === 'InvalidResource.NotFound')
    return new AttemptFailure('ImageUnavailable', `image archive ${text} not found`);
  return new AttemptFailure(
    'ImageUnavailable',
    `image archive ${text} could not be downloaded: ${err instanceof Error ? err.message : String(err)}`,
  );
}
