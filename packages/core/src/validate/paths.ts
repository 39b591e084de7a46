/**
 * The two kinds of paths in a task: object URIs (`oss://bucket/key`, `s3://...`) and local paths on the
 * worker. Local paths are where the runner mounts inputs and collects outputs, so they are normalised
 * here once and kept out of places whose shadowing would break the sandbox or the host.
 */
import { posix } from 'node:path';
import { invalidJob } from '../errors.js';
import { objectUriProblem, parseObjectUri } from '../oss-uri.js';
import { isAbsent } from './fields.js';

/** Mapping one of these (or anything under it) over the task's view would break the sandbox. */
export const SYSTEM_DIRECTORIES: readonly string[] = Object.freeze([
  '/proc',
  '/dev',
  '/sys',
  '/usr',
  '/bin',
  '/lib',
  '/lib64',
  '/etc',
  '/sbin',
]);

/** `parent` is `child` or one of its ancestors. Relative paths live under the working directory ('.'). */
export function isWithin(parent: string, child: string): boolean {
  if (parent === child) return true;
  if (parent.startsWith('/') !== child.startsWith('/')) return false;
  if (parent === '.' || parent === '/') return true;
  return child.startsWith(`${parent}/`);
}

/**
 * A local path, normalised: no `//`, `.` or `..` segments, no trailing '/' except for the root.
 * Relative paths are kept relative (the runner resolves them against the working directory).
 */
export function localPath(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalidJob(field, value, 'must be a local path string');
  if (value === '') throw invalidJob(field, value, 'must be a non-empty local path');
  if (value.includes('\0')) throw invalidJob(field, value, 'must not contain NUL characters');
  let normal = posix.normalize(value);
  if (normal.length > 1 && normal.endsWith('/')) normal = normal.slice(0, -1);
  if (!normal.startsWith('/')) {
    if (normal === '..' || normal.startsWith('../')) {
      throw invalidJob(field, value, 'a relative path must stay inside the working directory');
    }
    return normal;
  }
  if (normal === '/') throw invalidJob(field, value, 'must not be the root directory');
  const system = SYSTEM_DIRECTORIES.find((dir) => isWithin(dir, normal));
  if (system) throw invalidJob(field, value, `must not be or lie under the system directory ${system}`);
  return normal;
}

/** An object URI, unchanged. */
export function objectUri(value: unknown, field: string): string {
  const problem = objectUriProblem(value);
  if (problem) throw invalidJob(field, value, problem);
  return value as string;
}

/** An object URI naming a prefix ("directory"): '/' is appended when missing. */
export function objectPrefix(value: unknown, field: string): string {
  const uri = objectUri(value, field);
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/** StdoutRedirectPath / StderrRedirectPath: '' (no upload) or an object prefix. */
export function redirectPath(value: unknown, field: string): string {
  if (isAbsent(value) || value === '') return '';
  return objectPrefix(value, field);
}

const PACKAGE_SUFFIXES = ['.tar.gz', '.tgz', '.zip'];

/** Command.PackagePath: '' or an archive the runner knows how to unpack. */
export function packagePath(value: unknown, field: string): string {
  if (isAbsent(value) || value === '') return '';
  const uri = objectUri(value, field);
  const key = parseObjectUri(uri).key;
  if (!PACKAGE_SUFFIXES.some((suffix) => key.endsWith(suffix))) {
    throw invalidJob(field, value, 'must name a .tar.gz, .tgz or .zip package');
  }
  return uri;
}
