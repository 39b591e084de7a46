/**
 * Mounts (seed 002, spec §5.6.4): a task's `Mounts.Entries` (or its AutoCluster's `Configs.Mounts`),
 * each `{Source, Destination, WriteSupport}`. Here:
 * - `oss://` (and `s3://`) sources are mounted read-only: the objects under the prefix appear at the
 *   destination (staged like an InputMapping);
 * - `nas://` and `file://` sources are directories of the worker's host, and only those the server's
 *   operator allows (`--allow-mount`), each allowed source prefix naming where it is on the host.
 */
import { invalidParameter } from './errors.js';
import { objectUriProblem } from './oss-uri.js';

/** A Mounts entry as the task gave it, checked for shape. */
export interface MountEntry {
  readonly source: string;
  readonly destination: string;
  readonly writable: boolean;
  /** Where the task gave it, e.g. `DAG.Tasks.t.Mounts.Entries[0]`, for messages. */
  readonly field: string;
}

/** A host directory an attempt gets at `destination` (a resolved `nas://` or `file://` mount). */
export interface HostMount {
  readonly source: string;
  readonly hostPath: string;
  readonly destination: string;
  readonly writable: boolean;
}

/** What the operator allows: sources under `source` are the host's `hostPath` (+ the rest of the source). */
export interface MountRule {
  readonly source: string;
  readonly hostPath: string;
  readonly writable: boolean;
}

export type MountScheme = 'oss' | 'host';

const HOST_SCHEMES = ['nas://', 'file://'];
const UNSUPPORTED = ['smb://', 'lustre://', 'nasplus://', 'cpfs://'];

export function mountSchemeOf(source: string): MountScheme | undefined {
  if (objectUriProblem(source) === undefined) return 'oss';
  return HOST_SCHEMES.some((s) => source.startsWith(s)) ? 'host' : undefined;
}

export function unsupportedMountScheme(source: string): string | undefined {
  return UNSUPPORTED.find((s) => source.startsWith(s));
}

/**
 * An operator's rule: `SOURCE[=HOSTPATH][:rw]`, e.g. `nas://fs-1.example.com:/exports=/mnt/nas`,
 * `file:///srv/reference` (the host path is the URI's own), `file:///srv/scratch:rw`.
 */
export function parseMountRule(text: string): MountRule {
  let rest = text;
  let writable = false;
  if (rest.endsWith(':rw')) {
    writable = true;
    rest = rest.slice(0, -3);
  } else if (rest.endsWith(':ro')) {
    rest = rest.slice(0, -3);
  }
  const eq = rest.indexOf('=');
  const source = eq >= 0 ? rest.slice(0, eq) : rest;
  let hostPath = eq >= 0 ? rest.slice(eq + 1) : '';
  if (!HOST_SCHEMES.some((s) => source.startsWith(s)))
    throw invalidParameter('--allow-mount', text, 'must start with nas:// or file://');
  if (!hostPath) {
    if (!source.startsWith('file://'))
      throw invalidParameter(
        '--allow-mount',
        text,
        'a nas:// source needs =<host path> (where it is mounted)',
      );
    hostPath = source.slice('file://'.length);
  }
  if (!hostPath.startsWith('/') || hostPath.includes('\0') || hostPath.split('/').includes('..'))
    throw invalidParameter('--allow-mount', text, 'the host path must be absolute, without ..');
  return { source: trimSlash(source), hostPath: trimSlash(hostPath) || '/', writable };
}

function trimSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') && !p.endsWith('://') ? p.replace(/\/+$/, '') : p;
}

/**
 * The host directory a source names under the operator's rules, and whether it may be written; undefined
 * when no rule allows it. A source lies under a rule when it is the rule's source or continues it with
 * `/`; the rest of the path must not climb out with `..`.
 */
export function resolveHostMount(
  source: string,
  rules: readonly MountRule[],
): { hostPath: string; writable: boolean } | undefined {
  const wanted = trimSlash(source);
  let best: MountRule | undefined;
  for (const rule of rules) {
    const under = wanted === rule.source || wanted.startsWith(`${rule.source}/`);
    if (under && (!best || rule.source.length > best.source.length)) best = rule;
  }
  if (!best) return undefined;
  const rest = wanted.slice(best.source.length);
  if (rest.split('/').some((part) => part === '..' || part === '.') || rest.includes('\0')) return undefined;
  return { hostPath: `${best.hostPath === '/' ? '' : best.hostPath}${rest}` || '/', writable: best.writable };
}
