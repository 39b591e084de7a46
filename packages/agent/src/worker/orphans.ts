/**
 * After a crash of the server, commands it started may still run. Before the local worker re-registers
 * (which re-queues its cut-off attempts), every process still carrying its worker id is killed with its
 * process group, so no instance runs twice at once. Found through /proc, which costs nothing per attempt.
 */
import { readdir, readFile } from 'node:fs/promises';

export async function killOrphans(workerId: string): Promise<number> {
  const marker = Buffer.from(`\u0000BATCH_COMPUTE_WORKER_ID=${workerId}\u0000`);
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return 0;
  }
  let killed = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let environ: Buffer;
    try {
      environ = Buffer.concat([Buffer.from([0]), await readFile(`/proc/${pid}/environ`)]);
    } catch {
      continue;
    }
    if (!environ.includes(marker)) continue;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        continue;
      }
    }
    killed++;
  }
  return killed;
}
