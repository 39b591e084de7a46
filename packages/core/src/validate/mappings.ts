/**
 * A task's InputMapping (oss -> local, read-only inputs), OutputMapping (local dir -> oss prefix,
 * uploaded at the end) and LogMapping (local file -> oss dir). Beyond each entry's own shape, the
 * entries of one task must not fight over a directory: an input and an output sharing a directory, or
 * one inside the other, would make the upload depend on what the read-only mount happens to show.
 */
import type { InputMappingEntry, OutputMappingEntry } from '../attempt.js';
import { invalidJob } from '../errors.js';
import { entriesOf, optionalObject, quotedPath } from './fields.js';
import { isWithin, localPath, objectPrefix, objectUri } from './paths.js';

export interface TaskMappings {
  readonly inputMappings: readonly InputMappingEntry[];
  readonly outputMappings: readonly OutputMappingEntry[];
  readonly logMappings: readonly OutputMappingEntry[];
}

interface Located {
  /** Normalised local path. */
  readonly local: string;
  /** Where the entry was written, e.g. `DAG.Tasks.t.InputMapping["oss://b/in/"]`. */
  readonly field: string;
  /** The user's text of the local side, shown in messages. */
  readonly raw: unknown;
}

function inputs(value: unknown, path: string): { entries: InputMappingEntry[]; located: Located[] } {
  const entries: InputMappingEntry[] = [];
  const located: Located[] = [];
  for (const [source, raw] of entriesOf(optionalObject(value, path) ?? {})) {
    const field = quotedPath(path, source);
    objectUri(source, field);
    const local = localPath(raw, field);
    const taken = located.find((other) => other.local === local);
    if (taken) throw invalidJob(field, raw, `another source already maps to ${local} (${taken.field})`);
    entries.push({ source, destination: local });
    located.push({ local, field, raw });
  }
  return { entries, located };
}

function outputs(value: unknown, path: string): { entries: OutputMappingEntry[]; located: Located[] } {
  const entries: OutputMappingEntry[] = [];
  const located: Located[] = [];
  for (const [source, target] of entriesOf(optionalObject(value, path) ?? {})) {
    const field = quotedPath(path, source);
    const local = localPath(source, field);
    entries.push({ source: local, destination: objectPrefix(target, field) });
    located.push({ local, field, raw: source });
  }
  return { entries, located };
}

function logs(value: unknown, path: string): OutputMappingEntry[] {
  const entries: OutputMappingEntry[] = [];
  for (const [source, target] of entriesOf(optionalObject(value, path) ?? {})) {
    const field = quotedPath(path, source);
    const local = localPath(source, field);
    if (local === '.') throw invalidJob(field, source, 'must name a log file, not the working directory');
    entries.push({ source: local, destination: objectPrefix(target, field) });
  }
  return entries;
}

/** Rejects an output directory that is, contains or lies inside an input destination. */
function checkOverlap(ins: readonly Located[], outs: readonly Located[]): void {
  for (const out of outs) {
    for (const input of ins) {
      if (out.local === input.local) {
        throw invalidJob(
          out.field,
          out.raw,
          `${input.field} already uses ${input.local} as its input directory`,
        );
      }
      if (isWithin(input.local, out.local)) {
        throw invalidJob(out.field, out.raw, `lies inside input directory ${input.local} (${input.field})`);
      }
      if (isWithin(out.local, input.local)) {
        throw invalidJob(out.field, out.raw, `contains input directory ${input.local} (${input.field})`);
      }
    }
  }
}

/** Reads the three mapping fields of the task at `taskPath` (e.g. `DAG.Tasks.count`). */
export function readMappings(input: unknown, output: unknown, log: unknown, taskPath: string): TaskMappings {
  const ins = inputs(input, `${taskPath}.InputMapping`);
  const outs = outputs(output, `${taskPath}.OutputMapping`);
  const logMappings = logs(log, `${taskPath}.LogMapping`);
  checkOverlap(ins.located, outs.located);
  return { inputMappings: ins.entries, outputMappings: outs.entries, logMappings };
}
