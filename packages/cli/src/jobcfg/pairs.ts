/**
 * The small list syntaxes of bcs options and job.cfg values: `k:v,k2:v2` (env), `oss:local,...`
 * (read_mount, write_mount, log_mapping), `src:dst[:true|false],...` (mount), `image@oss://folder/`
 * (docker) and `a->b,c;d->e` (deps).
 */

/** A value bcs would reject, naming the option and the offending text. */
export class JobConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobConfigError';
  }
}

/** The non-empty, trimmed items of a comma-separated list. */
export function items(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * `k:v,k2:v2` -> `{k: 'v', k2: 'v2'}`; each item splits at its first ':', a bare key maps to ''.
 *
 * @example parseEnv('A:1,B:x:y') // { A: '1', B: 'x:y' }
 */
export function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of items(text)) {
    const colon = item.indexOf(':');
    const key = (colon < 0 ? item : item.slice(0, colon)).trim();
    if (key === '') throw new JobConfigError(`env: missing variable name in ${JSON.stringify(item)}`);
    env[key] = colon < 0 ? '' : item.slice(colon + 1).trim();
  }
  return env;
}

const SCHEME_RE = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Splits `remote:local` where the remote side is an object URI that itself contains ':'.
 * The split is at the last ':' followed by a local path ('/' or '.'), not counting the scheme's
 * own `://`; without one, at the last ':' after the scheme.
 *
 * @example splitMountPair('oss://b/x/:/home/in') // ['oss://b/x/', '/home/in']
 */
export function splitMountPair(pair: string, option = 'mount'): [string, string] {
  const schemeEnd = SCHEME_RE.exec(pair)?.[0].length ?? 0;
  let split = -1;
  for (let i = pair.length - 2; i >= schemeEnd; i--) {
    if (pair[i] === ':' && (pair[i + 1] === '/' || pair[i + 1] === '.')) {
      split = i;
      break;
    }
  }
  if (split < 0) split = pair.lastIndexOf(':');
  if (split < schemeEnd || split <= 0 || split === pair.length - 1) {
    throw new JobConfigError(
      `${option}: expected "oss://bucket/path:/local/path", got ${JSON.stringify(pair)}`,
    );
  }
  return [pair.slice(0, split), pair.slice(split + 1)];
}

/**
 * `oss:local,...` -> ordered `[oss, local]` pairs.
 *
 * @example parseMountList('oss://b/in/:/home/input') // [['oss://b/in/', '/home/input']]
 */
export function parseMountList(text: string, option = 'mount'): [string, string][] {
  return items(text).map((item) => splitMountPair(item, option));
}

/** One `-m/--mount` item: a Mounts entry. */
export interface MountItem {
  Source: string;
  Destination: string;
  WriteSupport: boolean;
}

/**
 * `src:dst[:true|false],...` -> Mounts entries. Sources carry ':' of their own (`nas://host:/path/`),
 * so the optional flag is taken off first, then the pair splits like a read_mount. Unlike bcs, which
 * makes a source ending in '/' writable, an entry is read-only unless it says `:true`: object storage
 * mounts cannot be written, and host mounts are writable only where the operator allows.
 *
 * @example parseMounts('nas://fs-1:/share/:/mnt/share:true') // [{Source: 'nas://fs-1:/share/', Destination: '/mnt/share', WriteSupport: true}]
 */
export function parseMounts(text: string): MountItem[] {
  return items(text).map((item) => {
    const flag = /:(true|false)$/i.exec(item);
    const pair = flag ? item.slice(0, flag.index) : item;
    const [source, destination] = splitMountPair(pair, 'mount');
    return {
      Source: source,
      Destination: destination,
      WriteSupport: flag ? flag[1]!.toLowerCase() === 'true' : false,
    };
  });
}

/**
 * `--docker <image>[@oss://folder/]` -> the variables BatchCompute reads: the image, and the folder of
 * saved images it is loaded from (bcs's trans_docker).
 *
 * @example parseDocker('localhost:5000/myubuntu@oss://b/dockers/') // { BATCH_COMPUTE_DOCKER_IMAGE: 'localhost:5000/myubuntu', BATCH_COMPUTE_DOCKER_REGISTRY_OSS_PATH: 'oss://b/dockers/' }
 */
export function parseDocker(text: string): Record<string, string> {
  const value = text.trim();
  const at = value.search(/@(oss|s3):\/\//);
  const image = at < 0 ? value : value.slice(0, at);
  if (image === '')
    throw new JobConfigError(
      `docker: expected "<image>[@oss://bucket/folder/]", got ${JSON.stringify(text)}`,
    );
  return {
    BATCH_COMPUTE_DOCKER_IMAGE: image,
    ...(at < 0 ? {} : { BATCH_COMPUTE_DOCKER_REGISTRY_OSS_PATH: value.slice(at + 1) }),
  };
}

/**
 * `a->b,c;d->e` and chains `a->b->c` -> `{a: ['b', 'c'], d: ['e']}` / `{a: ['b'], b: ['c']}`
 * (the wire's DAG.Dependencies: each task maps to the tasks that run after it).
 *
 * @example parseDeps('split->count;count->merge') // { split: ['count'], count: ['merge'] }
 */
export function parseDeps(text: string): Record<string, string[]> {
  const deps: Record<string, string[]> = {};
  for (const rule of text.split(/[;\n]/).map((r) => r.trim())) {
    if (rule === '') continue;
    const stages = rule.split('->').map(items);
    if (stages.length < 2 || stages.some((names) => names.length === 0)) {
      throw new JobConfigError(`deps: expected "a->b,c;d->e", got ${JSON.stringify(rule)}`);
    }
    for (let i = 0; i + 1 < stages.length; i++) {
      for (const from of stages[i]!) {
        const successors = (deps[from] ??= []);
        for (const to of stages[i + 1]!) if (!successors.includes(to)) successors.push(to);
      }
    }
  }
  return deps;
}

const TRUE_WORDS = ['1', 'yes', 'true', 'on'];
const FALSE_WORDS = ['0', 'no', 'false', 'off'];

/** ConfigParser's getboolean: 1/yes/true/on and 0/no/false/off, any case. */
export function parseBool(text: string, option: string): boolean {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  throw new JobConfigError(`${option}: expected true or false, got ${JSON.stringify(text)}`);
}

/** What `-c/--cluster` and `cluster =` name: an existing cluster or an auto cluster's image/type. */
export type ClusterChoice = { clusterId: string } | { image?: string; type?: string };

/**
 * `cls-…` -> an existing cluster; `img=<image>:type=<type>` (either part optional) -> an auto cluster.
 *
 * @example parseCluster('img=img-ubuntu:type=shoal.local') // { image: 'img-ubuntu', type: 'shoal.local' }
 */
export function parseCluster(text: string): ClusterChoice {
  const value = text.trim();
  if (value.startsWith('cls-')) return { clusterId: value };
  const choice: { image?: string; type?: string } = {};
  for (const part of value
    .split(':')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? '' : part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (key === 'img' || key === 'image') choice.image = v;
    else if (key === 'type') choice.type = v;
    else
      throw new JobConfigError(
        `cluster: expected "cls-…" or "img=<image>:type=<type>", got ${JSON.stringify(text)}`,
      );
  }
  return choice;
}
