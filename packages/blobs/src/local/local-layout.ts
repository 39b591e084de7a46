import { lstat, mkdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { formatObjectUri, invalidParameter, type ObjectUri } from '@shoal/core';
import { BLOB_DEFAULTS } from '../defaults.js';
import { assertObjectUri } from '../keys.js';
import { isInsideOrSame } from '../safe-path.js';
import { isErrno } from '../walk.js';

/**
 * How the local backend lays objects out: `oss://b/k` is the plain file `<root>/b/k`, so users can
 * drop inputs in by hand. Every mapping refuses keys that could leave `<root>/<bucket>`, lexically
 * here and through symbolic links in `realInside`.
 */
export class LocalLayout {
  readonly root: string;
  /** Bucket directories (with their temporary directory) known to exist. */
  private readonly made = new Set<string>();

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  bucketDir(bucket: string): string {
    return path.join(this.root, bucket);
  }

  tempDir(bucket: string): string {
    return path.join(this.bucketDir(bucket), BLOB_DEFAULTS.localTempDirName);
  }

  /** Forgets that a bucket's directories exist (they were removed): the next write makes them again. */
  forget(bucket: string): void {
    this.made.delete(this.bucketDir(bucket));
  }

  /** The lexical path of an object or prefix (a prefix maps to its directory). */
  pathOf(uri: ObjectUri): string {
    assertLocalKey(uri);
    const segments = uri.key.split('/').filter((s) => s !== '');
    return path.join(this.bucketDir(uri.bucket), ...segments);
  }

  /**
   * The real path behind `lexicalPath` (an object, or a directory on the way to one), or undefined
   * when it does not exist. Throws when a symbolic link leads outside the bucket: users may link
   * inputs in, but a link must never expose the rest of the machine through the object API.
   */
  async realInside(uri: ObjectUri, lexicalPath: string): Promise<string | undefined> {
    let bucketReal: string;
    let real: string;
    try {
      bucketReal = await realpath(this.bucketDir(uri.bucket));
      real = await realpath(lexicalPath);
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
      throw err;
    }
    if (!isInsideOrSame(bucketReal, real)) {
      throw invalidParameter(
        'uri',
        formatObjectUri(uri),
        'resolves through a symbolic link to outside its bucket',
      );
    }
    return real;
  }

  /**
   * Creates the directories leading to an object, one segment at a time, and returns the real
   * path of its parent. `mkdir -p` would happily create directories through a linked-in directory
   * before any check could run; this refuses the link first.
   */
  async makeParentDirs(uri: ObjectUri): Promise<string> {
    const bucketDir = this.bucketDir(uri.bucket);
    // Buckets and their temporary directories are made once per layout; whatever they hold is still
    // checked on every write (realpath below): a bucket replaced by a link is refused all the same.
    if (!this.made.has(bucketDir)) {
      await mkdir(this.tempDir(uri.bucket), { recursive: true });
      this.made.add(bucketDir);
    }
    const bucketReal = await realpath(bucketDir);
    let dir = bucketReal;
    for (const segment of uri.key.split('/').slice(0, -1)) {
      const next = path.join(dir, segment);
      // Most writes go to directories that exist: one lstat (which never follows a link) settles those.
      const st = await lstat(next).catch((err: unknown) => {
        if (isErrno(err, 'ENOENT')) return undefined;
        throw err;
      });
      if (st?.isDirectory()) {
        dir = next;
        continue;
      }
      if (!st) {
        try {
          await mkdir(next);
          dir = next;
          continue;
        } catch (err) {
          if (!isErrno(err, 'EEXIST')) throw err;
        }
      }
      const real = await realpath(next);
      if (!isInsideOrSame(bucketReal, real)) {
        throw invalidParameter(
          'uri',
          formatObjectUri(uri),
          'resolves through a symbolic link to outside its bucket',
        );
      }
      if (!(await stat(real)).isDirectory())
        throw Object.assign(new Error(`${next} is not a directory`), { code: 'ENOTDIR' });
      dir = real;
    }
    return dir;
  }
}

/**
 * Local keys follow `parseObjectUri`'s rules plus two of the filesystem's: no empty segments
 * (`a//b` would alias `a/b`) and no keys inside the hidden temporary directory.
 */
export function assertLocalKey(uri: ObjectUri): void {
  assertObjectUri(uri);
  const segments = uri.key.split('/');
  if (uri.key.endsWith('/')) segments.pop();
  if (uri.key !== '' && segments.some((s) => s === '')) {
    throw invalidParameter('uri', formatObjectUri(uri), 'key must not contain empty path segments (//)');
  }
  if (segments[0] === BLOB_DEFAULTS.localTempDirName) {
    throw invalidParameter(
      'uri',
      formatObjectUri(uri),
      `key must not start with ${BLOB_DEFAULTS.localTempDirName}/`,
    );
  }
}
