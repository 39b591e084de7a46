import type { Assignment } from '@shoal/core';
import { AttemptFailure } from './results.js';

export const BASE_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * The environment a command sees. Built from scratch, never from the agent's own environment, so the
 * agent's secrets (server credentials, cloud keys) cannot leak into user code. Order of precedence:
 * BATCH_COMPUTE_* (set by the service, not overridable) > the task's EnvVars > the minimal base.
 * HOME is the working directory: the sandbox user has no home of its own (Docker's base differs, per
 * BatchCompute's Docker mode).
 */
export function attemptEnv(
  a: Assignment,
  workerId: string,
  workDir: string,
  base: Readonly<Record<string, string>> = { PATH: BASE_PATH, HOME: workDir, LANG: 'C.UTF-8' },
): Record<string, string> {
  const env: Record<string, string> = { ...base };
  for (const [name, value] of Object.entries(a.envVars)) {
    if (name === '' || name.includes('=') || name.includes('\0')) {
      throw new AttemptFailure(
        'CommandLineInvalid',
        `EnvVars name ${JSON.stringify(name)} is not a valid environment variable name`,
      );
    }
    if (typeof value !== 'string' || value.includes('\0')) {
      throw new AttemptFailure(
        'CommandLineInvalid',
        `EnvVars value of ${name} must be a string without NUL characters`,
      );
    }
    env[name] = value;
  }
  env.BATCH_COMPUTE_DAG_JOB_ID = a.jobId;
  env.BATCH_COMPUTE_DAG_TASK_ID = a.taskName;
  env.BATCH_COMPUTE_DAG_INSTANCE_ID = String(a.instanceId);
  env.BATCH_COMPUTE_DAG_INSTANCE_COUNT = String(a.instanceCount);
  env.BATCH_COMPUTE_ATTEMPT = String(a.attemptNo);
  env.BATCH_COMPUTE_OSS_HOST = a.ossHost;
  env.BATCH_COMPUTE_REGION = a.region;
  env.BATCH_COMPUTE_CLUSTER_ID = a.clusterId;
  env.BATCH_COMPUTE_WORKER_ID = workerId;
  return env;
}
