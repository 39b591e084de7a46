import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { isPrefix, objectUriProblem, parseObjectUri, type Assignment, type ObjectUri } from '@shoal/core';
import { RESERVED_PATHS } from '../sandbox/system.js';
import { AttemptFailure } from './results.js';

/**
 * The mapping plan of one attempt: where each InputMapping, OutputMapping and LogMapping lives as the
 * program sees it ("visible" paths) and, for those inside the working directory, on the host. Mappings
 * under the working directory need nothing special; any other absolute path exists only inside the
 * attempt's own mount namespace, so that two attempts mapping `/home/input/` side by side each see their
 * own. planMappings is pure (no I/O): that a mapping inside stays inside on disk (no symlink leading out)
 * is checked where the disk is used, with staysWithin.
 */
export interface InputPlan {
  readonly source: ObjectUri;
  readonly sourceText: string;
  /** A prefix (`oss://b/dir/`) is a directory; otherwise a single object, mapped as a file. */
  readonly directory: boolean;
  readonly visible: string;
  readonly inside: boolean;
  /** The host path of an inside mapping; '' for one outside the working directory. */
  readonly host: string;
}

export interface OutputPlan {
  readonly destination: ObjectUri;
  readonly visible: string;
  readonly inside: boolean;
  readonly host: string;
}

export interface LogPlan {
  readonly destination: ObjectUri;
  readonly visible: string;
  readonly inside: boolean;
  readonly host: string;
}

/** The working directory as the command sees it and where it is on the host (the same when unsandboxed). */
export interface WorkDirs {
  readonly visible: string;
  readonly host: string;
}

export interface MappingPlan {
  /** The working directory the plan was made for: "inside" means within it. */
  readonly workDir: WorkDirs;
  readonly inputs: readonly InputPlan[];
  readonly outputs: readonly OutputPlan[];
  readonly logs: readonly LogPlan[];
  /** The first visible path outside the working directory, or '' when every mapping stays inside. */
  readonly firstOutside: string;
}

export function planMappings(a: Assignment, workDir: WorkDirs): MappingPlan {
  const inputs = a.inputMappings.map((m, i): InputPlan => {
    const field = `InputMapping[${i}]`;
    const source = objectUri(m.source, field, 'InputMappingFailed');
    const directory = isPrefix(source);
    let local = m.destination;
    if (!directory && local.endsWith('/')) local += path.posix.basename(source.key);
    return {
      source,
      sourceText: m.source,
      directory,
      ...localPath(local, workDir, field, 'InputMappingFailed'),
    };
  });
  const outputs = a.outputMappings.map((m, i): OutputPlan => {
    const field = `OutputMapping[${i}]`;
    const destination = asPrefix(objectUri(m.destination, field, 'OutputUploadFailed'));
    return { destination, ...localPath(m.source, workDir, field, 'OutputUploadFailed') };
  });
  const logs = a.logMappings.map((m, i): LogPlan => {
    const field = `LogMapping[${i}]`;
    const destination = asPrefix(objectUri(m.destination, field, 'LogUploadFailed'));
    const where = localPath(m.source, workDir, field, 'LogUploadFailed');
    if (where.visible === workDir.visible)
      throw new AttemptFailure('LogUploadFailed', `${field} local path ${m.source} must name a file`);
    return { destination, ...where };
  });
  const outside = [...inputs, ...outputs, ...logs].find((m) => !m.inside);
  return { workDir, inputs, outputs, logs, firstOutside: outside?.visible ?? '' };
}

/** Log file name in the store: `<dir><basename>.<jobId>.<task>.<iid>`. */
export function logObjectKey(visible: string, a: Assignment): string {
  return `${path.posix.basename(visible)}.${a.jobId}.${a.taskName}.${a.instanceId}`;
}

export function isWithin(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/**
 * Whether `host` (which must exist), links followed, is within `root`: the agent may be root, and the
 * user's package or command may have left links leading anywhere. False when either cannot be resolved.
 */
export async function staysWithin(host: string, root: string): Promise<boolean> {
  try {
    const [real, realRoot] = await Promise.all([realpath(host), realpath(root)]);
    return isWithin(real, realRoot);
  } catch {
    return false;
  }
}

function localPath(
  text: string,
  dirs: WorkDirs,
  field: string,
  code: 'InputMappingFailed' | 'OutputUploadFailed' | 'LogUploadFailed',
): { visible: string; inside: boolean; host: string } {
  const workDir = dirs.visible;
  const hostOf = (visible: string): string => dirs.host + visible.slice(workDir.length);
  if (typeof text !== 'string' || text === '' || text.includes('\0')) {
    throw new AttemptFailure(code, `${field} local path ${JSON.stringify(text)} is not a path`);
  }
  if (!path.isAbsolute(text)) {
    const visible = path.resolve(workDir, text);
    if (!isWithin(visible, workDir)) {
      throw new AttemptFailure(
        code,
        `${field} local path ${text} is relative but climbs out of the working directory`,
      );
    }
    return { visible, inside: true, host: hostOf(visible) };
  }
  const visible = path.resolve(text);
  if (isWithin(visible, workDir)) return { visible, inside: true, host: hostOf(visible) };
  if (visible === '/' || RESERVED_PATHS.some((r) => isWithin(visible, r))) {
    throw new AttemptFailure(
      code,
      `${field} local path ${text} is inside a system directory the sandbox mounts itself; choose a path such as /home/...`,
    );
  }
  if (isWithin(workDir, visible)) {
    throw new AttemptFailure(
      code,
      `${field} local path ${text} contains the working directory and would hide it`,
    );
  }
  return { visible, inside: false, host: '' };
}

function objectUri(
  text: string,
  field: string,
  code: 'InputMappingFailed' | 'OutputUploadFailed' | 'LogUploadFailed',
): ObjectUri {
  const problem = objectUriProblem(text);
  if (problem)
    throw new AttemptFailure(code, `${field} ${JSON.stringify(text)} is not an object URI: ${problem}`);
  return parseObjectUri(text);
}

function asPrefix(uri: ObjectUri): ObjectUri {
  return isPrefix(uri) ? uri : { ...uri, key: `${uri.key}/` };
}
