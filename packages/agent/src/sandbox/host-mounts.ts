/**
 * Host directories an attempt mounts (its task's nas:// and file:// Mounts). The server resolved them at
 * submit; the worker checks them again against its own rules, with links followed: a directory a
 * writable mount exposed may since hold a link leading anywhere on the host.
 */
import { realpath, stat } from 'node:fs/promises';
import { resolveHostMount, type Assignment, type MountRule } from '@shoal/core';
import { isWithin } from '../runner/mappings.js';
import { AttemptFailure } from '../runner/results.js';

/** A host mount as the worker binds it: its real path. */
export interface CheckedMount {
  readonly hostPath: string;
  readonly visible: string;
  readonly writable: boolean;
}

export async function checkHostMounts(a: Assignment, rules: readonly MountRule[]): Promise<CheckedMount[]> {
  const checked: CheckedMount[] = [];
  for (const m of a.hostMounts) {
    const refuse = (why: string): never => {
      throw new AttemptFailure('InputMappingFailed', `mount ${m.source} at ${m.destination}: ${why}`);
    };
    const allowed = resolveHostMount(m.source, rules);
    if (!allowed || allowed.hostPath !== m.hostPath) refuse('this worker does not allow it (--allow-mount)');
    if (m.writable && !allowed!.writable) refuse('this worker allows it read-only');
    const rule = rules.find((r) => resolveHostMount(m.source, [r])?.hostPath === m.hostPath)!;
    const [real, root] = await Promise.all([
      realpath(m.hostPath).catch(() => refuse(`${m.hostPath} does not exist on this worker`)),
      realpath(rule.hostPath).catch(() => refuse(`${rule.hostPath} does not exist on this worker`)),
    ]);
    if (!isWithin(real, root)) refuse(`${m.hostPath} leads out of ${rule.hostPath} through a link`);
    if (!(await stat(real)).isDirectory()) refuse(`${m.hostPath} is not a directory`);
    checked.push({ hostPath: real, visible: m.destination, writable: m.writable });
  }
  return checked;
}
