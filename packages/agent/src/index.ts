export { Runner, type AttemptIo } from './runner/runner.js';
export {
  DEFAULT_SANDBOX_UID_BASE,
  resolveRunnerOptions,
  type RunnerOptions,
  type ResolvedRunnerOptions,
} from './runner/options.js';
export { splitCommandLine, commandLineProblem, CommandLineError } from '@shoal/core';
export type { DockerOptions } from './docker/engine.js';
export { WorkerLoop, type WorkerLoopOptions } from './worker/worker-loop.js';
export { SpareLogs } from './worker/spare-logs.js';
export { FilesystemSync, SYNCFS_HELPER_PATH } from './worker/filesystem-sync.js';
export { ClaimAhead, DEFAULT_CLAIM_AHEAD, type ClaimAheadOptions } from './worker/claim-ahead.js';
export type {
  AttemptFiles,
  AttemptLogs,
  HeartbeatReply,
  Registered,
  WorkerIdentity,
  WorkerLink,
  WorkerLog,
  WorkerSignals,
} from './worker/link.js';
export { startAgent, agentWorkerId, type AgentOptions, type RunningAgent } from './worker/agent.js';
