import type { Readable } from 'node:stream';
import { Unpack, type ReadEntry } from 'tar';
import { ArchiveGuard } from './archive-guard.js';

/** Where an extraction failed: reading the source (download) or the archive itself. */
export class ExtractError extends Error {
  readonly stage: 'source' | 'archive';

  constructor(stage: 'source' | 'archive', message: string) {
    super(message);
    this.name = 'ExtractError';
    this.stage = stage;
  }
}

const WRITABLE_TYPES = new Set([
  'File',
  'OldFile',
  'ContiguousFile',
  'Directory',
  'GNUDumpDir',
  'SymbolicLink',
  'Link',
]);

/**
 * Unpacks a tar stream (gzip detected by content) into `dir`, refusing the whole archive at the first
 * entry that could write outside it. node-tar's strict mode adds its own refusals (writing through a
 * symlink already on disk, device nodes) and turns every warning into an error.
 */
export function extractTar(source: Readable, dir: string): Promise<void> {
  const guard = new ArchiveGuard();
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (err: ExtractError): void => {
      if (settled) return;
      settled = true;
      source.unpipe(unpack);
      source.destroy();
      reject(err);
    };
    const unpack: Unpack = new Unpack({
      cwd: dir,
      strict: true,
      // As root node-tar would restore the archive's owners; files belong to the agent (or are chowned later).
      preserveOwner: false,
      filter: (name, entry) => {
        if (settled) return false;
        const e = entry as ReadEntry;
        try {
          if (e.type === 'Directory' && guard.isRoot(name)) return false;
          if (!WRITABLE_TYPES.has(e.type))
            throw new Error(`entry ${JSON.stringify(name)} has the unsupported type ${e.type}`);
          guard.entryPath(name);
          if (e.type === 'SymbolicLink') guard.symlink(name, e.linkpath ?? '');
          if (e.type === 'Link') guard.hardlink(name, e.linkpath ?? '');
        } catch (err) {
          unpack.abort(err as Error);
          return false;
        }
        // setuid/setgid bits from a user archive are never wanted.
        if (typeof e.mode === 'number') e.mode &= 0o777;
        return true;
      },
    });
    unpack.on('error', (err: Error) => fail(new ExtractError('archive', cleanTarMessage(err.message))));
    unpack.on('close', () => {
      if (settled) return;
      settled = true;
      resolve();
    });
    source.on('error', (err: Error) => fail(new ExtractError('source', err.message)));
    source.pipe(unpack);
  });
}

function cleanTarMessage(message: string): string {
  return message.replace(/^TAR_[A-Z_]+: /, '');
}
