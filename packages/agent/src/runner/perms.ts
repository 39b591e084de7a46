import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { SandboxIds } from './sandbox.js';

/**
 * The first path on the way to `p` (its ancestors, then `p` itself) that `ids` may not pass, judged
 * from mode bits as the kernel would for a process without supplementary groups (bwrap is started with
 * none); undefined when the whole way is open. `need` is the access wanted on `p` itself (r=4, w=2, x=1).
 */
export async function blockedPathFor(p: string, ids: SandboxIds, need: number): Promise<string | undefined> {
  const parts = path.resolve(p).split('/').filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const at = `/${parts.slice(0, i).join('/')}`;
    const st = await stat(at).catch(() => undefined);
    if (!st) return at;
    const shift = st.uid === ids.uid ? 6 : st.gid === ids.gid ? 3 : 0;
    const bits = (st.mode >> shift) & 0o7;
    const wanted = i === parts.length ? need : 0o1;
    if ((bits & wanted) !== wanted) return at;
  }
  return undefined;
}
