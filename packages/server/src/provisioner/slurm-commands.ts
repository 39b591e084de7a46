/**
 * Slurm's command-line tools as the Slurm provider uses them: `sbatch` submits an array, `scancel` ends
 * elements, `squeue` reports their states. Every command gets the server's environment (SLURM_CONF among
 * it) and runs without a shell; nothing a user wrote reaches an argument unquoted.
 * Facts relied on (Slurm 22.05): `squeue -o %F|%K|%T|%r` prints one line per started element and one line
 * for the still pending rest of an array, with its indices as `[0-3,7%2]`; finished jobs stay listed for
 * MinJobAge seconds (300 by default).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

export interface SlurmSettings {
  /** Directory of sbatch, scancel and squeue; '' = found on PATH. */
  readonly binDir: string;
  /** Partition the arrays go to; '' = the cluster's default. */
  readonly partition: string;
}

export interface ArraySubmission {
  readonly name: string;
  /** Elements 0..size-1. */
  readonly size: number;
  /** Elements running at once (`%cap`). */
  readonly cap: number;
  readonly cpus: number;
  readonly memoryMb: number;
  /** Where each element's own output goes: `%A_%a` is replaced by Slurm. */
  readonly output: string;
  /** The element's command and its environment (only these variables are exported to it). */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface ElementState {
  readonly arrayJobId: string;
  readonly index: number;
  /** Slurm's state: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, NODE_FAIL, PREEMPTED, TIMEOUT, ... */
  readonly state: string;
  readonly reason: string;
}

/** States in which an element no longer runs and never will again. */
export const ENDED_STATES = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'NODE_FAIL',
  'PREEMPTED',
  'TIMEOUT',
  'DEADLINE',
  'OUT_OF_MEMORY',
  'BOOT_FAIL',
  'SPECIAL_EXIT',
  'REVOKED',
]);
/** Ended by the machine, not by the command: the attempt runs again without consuming a retry. */
export const MACHINE_LOST_STATES = new Set(['NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL']);
/** Pending reasons Slurm will never get past by itself: the element is cancelled and its attempt fails. */
export const NEVER_STARTS = new Set([
  'BadConstraints',
  'PartitionConfig',
  'PartitionNodeLimit',
  'PartitionTimeLimit',
  'InvalidAccount',
  'InvalidQOS',
  'DependencyNeverSatisfied',
]);

function run(
  settings: SlurmSettings,
  tool: string,
  args: readonly string[],
  env?: Readonly<Record<string, string>>,
): Promise<string> {
  const file = settings.binDir ? path.join(settings.binDir, tool) : tool;
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      // Well under a lease (30 s): a stalled slurmctld must not hold up the dispatcher's heartbeats.
      { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 15_000 },
      (err, stdout, stderr) => {
        if (err) {
          const text = String(stderr).trim() || err.message;
          reject(new Error(`${tool} failed: ${text}`));
        } else resolve(String(stdout));
      },
    );
  });
}

/** The indices of squeue's `[0-3,7%2]` (or a plain `5`); steps (`0-9:2`) are expanded too. */
export function expandIndices(text: string): number[] {
  const body = text.replace(/^\[/, '').replace(/\]$/, '').replace(/%\d+$/, '');
  const out: number[] = [];
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (!m) continue;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    const step = m[3] === undefined ? 1 : Math.max(1, Number(m[3]));
    for (let i = from; i <= to; i += step) out.push(i);
  }
  return out;
}

function quoted(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Submits an array; returns its job id. */
export async function submitArray(settings: SlurmSettings, s: ArraySubmission): Promise<string> {
  const args = [
    '--parsable',
    `--job-name=${s.name}`,
    `--array=0-${Math.max(0, s.size - 1)}%${Math.max(1, s.cap)}`,
    '--no-requeue',
    `--export=${['PATH', ...Object.keys(s.env)].join(',')}`,
    `--output=${s.output}`,
    `--cpus-per-task=${Math.max(1, s.cpus)}`,
    `--mem=${Math.max(1, s.memoryMb)}M`,
    ...(settings.partition ? [`--partition=${settings.partition}`] : []),
    `--wrap=exec ${s.argv.map(quoted).join(' ')}`,
  ];
  const out = (await run(settings, 'sbatch', args, s.env)).trim();
  // --parsable prints `jobid` or `jobid;cluster`.
  const id = out.split(';')[0]!;
  if (!/^\d+$/.test(id)) throw new Error(`sbatch printed no job id: ${out.slice(0, 200)}`);
  return id;
}

/** Cancels elements (`123_4`) or whole arrays (`123`); ones already ended are not an error. */
export async function cancel(settings: SlurmSettings, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await run(settings, 'scancel', [...ids]).catch((err: Error) => {
    if (!/Invalid job id|already completing|has already finished/i.test(err.message)) throw err;
  });
}

/** Cancels every job of a name: the arrays a previous run of the dispatcher left. */
export async function cancelNamed(settings: SlurmSettings, name: string): Promise<void> {
  await run(settings, 'scancel', [`--name=${name}`]);
}

/** States of the elements of the given arrays. An array Slurm has forgotten is absent from the answer. */
export async function elementStates(
  settings: SlurmSettings,
  arrayJobIds: readonly string[],
): Promise<ElementState[]> {
  if (arrayJobIds.length === 0) return [];
  const out = await run(settings, 'squeue', [
    '-h',
    '-t',
    'all',
    '-j',
    arrayJobIds.join(','),
    '-o',
    '%F|%K|%T|%r',
  ]).catch((err: Error) => {
    // squeue refuses the whole list when every id in it is unknown (all purged): nothing to report.
    if (/Invalid job id/i.test(err.message)) return '';
    throw err;
  });
  const states: ElementState[] = [];
  for (const line of out.split('\n')) {
    const [arrayJobId, indices, state, reason] = line.trim().split('|');
    if (!arrayJobId || !indices || !state) continue;
    for (const index of expandIndices(indices))
      states.push({ arrayJobId, index, state: state.replace(/\+$/, ''), reason: reason ?? '' });
  }
  return states;
}
