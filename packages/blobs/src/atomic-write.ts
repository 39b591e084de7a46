import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Where the bytes of an atomic write come from. */
export type AtomicSource = { readonly body: Buffer | string | Readable } | { readonly copyFrom: string };

export interface AtomicWriteOptions {
  /** Directory for the temporary file; must be on the same filesystem as `target` for rename to be atomic. */
  readonly tempDir?: string;
}

/**
 * Writes `target` so that readers see either the old file or the complete new one: the bytes go to a
 * temporary file that is flushed to disk and then renamed over the target. A crash or a failed
 * source stream leaves at most a stray temporary file, never a truncated target.
 */
export async function writeFileAtomically(
  target: string,
  source: AtomicSource,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const tempDir = options.tempDir ?? path.dirname(target);
  await mkdir(tempDir, { recursive: true });
  const temp = path.join(tempDir, `.${path.basename(target).slice(0, 64)}.${randomUUID()}.part`);
  try {
    if ('copyFrom' in source) {
      await copyFile(source.copyFrom, temp);
      await syncFile(temp);
    } else {
      const body = source.body;
      const input = body instanceof Readable ? body : Readable.from([Buffer.from(body)]);
      await pipeline(input, createWriteStream(temp, { flags: 'wx', flush: true }));
    }
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
