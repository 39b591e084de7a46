/** States of jobs, tasks and instances (spec §7): the same five words at every level. */
export const STATES = ['Waiting', 'Running', 'Finished', 'Failed', 'Stopped'] as const;
export type State = (typeof STATES)[number];
export type JobState = State;
export type TaskState = State;
export type InstanceState = State;

export const TERMINAL_STATES: readonly State[] = ['Finished', 'Failed', 'Stopped'];

export function isState(text: unknown): text is State {
  return typeof text === 'string' && (STATES as readonly string[]).includes(text);
}

export function isTerminal(state: State): boolean {
  return state === 'Finished' || state === 'Failed' || state === 'Stopped';
}

/** Counts by state, as in TaskMetrics / InstanceMetrics. */
export interface StateCounts {
  waiting: number;
  running: number;
  finished: number;
  failed: number;
  stopped: number;
}

export function emptyCounts(): StateCounts {
  return { waiting: 0, running: 0, finished: 0, failed: 0, stopped: 0 };
}

export function countKey(state: State): keyof StateCounts {
  return state.toLowerCase() as keyof StateCounts;
}
