/**
 * SQLite schema, as numbered migrations. Never edit a released migration: add the next number.
 * Keep in step with postgres/migrations.ts (same tables, columns and meanings).
 */
export const SQLITE_MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  owner_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  priority INTEGER NOT NULL,
  state TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  fail_on_instance_fail INTEGER NOT NULL,
  auto_release INTEGER NOT NULL,
  description_json TEXT NOT NULL,
  spec_json TEXT NOT NULL,
  idempotent_token TEXT,
  task_total INTEGER NOT NULL,
  created_us INTEGER NOT NULL,
  started_us INTEGER,
  ended_us INTEGER
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs (owner_id, idempotent_token) WHERE idempotent_token IS NOT NULL;
CREATE INDEX jobs_state ON jobs (state, seq);

CREATE TABLE tasks (
  job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  task_order INTEGER NOT NULL,
  state TEXT NOT NULL,
  instance_count INTEGER NOT NULL,
  max_retry_count INTEGER NOT NULL,
  cluster_id TEXT NOT NULL,
  spec_json TEXT NOT NULL,
  predecessors_json TEXT NOT NULL,
  pending_predecessors INTEGER NOT NULL,
  waiting_count INTEGER NOT NULL,
  running_count INTEGER NOT NULL DEFAULT 0,
  finished_count INTEGER NOT NULL DEFAULT 0,
  failed_count INTEGER NOT NULL DEFAULT 0,
  stopped_count INTEGER NOT NULL DEFAULT 0,
  started_us INTEGER,
  ended_us INTEGER,
  PRIMARY KEY (job_id, name)
);

CREATE TABLE instances (
  job_id TEXT NOT NULL,
  task_name TEXT NOT NULL,
  instance_id INTEGER NOT NULL,
  state TEXT NOT NULL,
  retry_count INTEGER NOT NULL DEFAULT 0,
  attempt_count INTEGER NOT NULL DEFAULT 0,
  started_us INTEGER,
  ended_us INTEGER,
  exit_code INTEGER,
  error_code TEXT NOT NULL DEFAULT '',
  error_message TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  worker_id TEXT NOT NULL DEFAULT '',
  lease_until_us INTEGER,
  PRIMARY KEY (job_id, task_name, instance_id),
  FOREIGN KEY (job_id, task_name) REFERENCES tasks (job_id, name) ON DELETE CASCADE
);
CREATE INDEX instances_running ON instances (worker_id, lease_until_us) WHERE state = 'Running';
CREATE INDEX instances_state ON instances (job_id, task_name, state, instance_id);

-- Runnable instances only: what a worker may claim next, in dispatch order.
CREATE TABLE queue (
  job_id TEXT NOT NULL,
  task_name TEXT NOT NULL,
  instance_id INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  job_seq INTEGER NOT NULL,
  task_order INTEGER NOT NULL,
  cluster_id TEXT NOT NULL,
  PRIMARY KEY (job_id, task_name, instance_id)
);
CREATE INDEX queue_order ON queue (priority DESC, job_seq, task_order, instance_id);

CREATE TABLE attempts (
  job_id TEXT NOT NULL,
  task_name TEXT NOT NULL,
  instance_id INTEGER NOT NULL,
  attempt_no INTEGER NOT NULL,
  worker_id TEXT NOT NULL,
  state TEXT NOT NULL,
  started_us INTEGER NOT NULL,
  ended_us INTEGER,
  exit_code INTEGER,
  signal TEXT,
  duration_ms INTEGER,
  error_code TEXT NOT NULL DEFAULT '',
  error_message TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (job_id, task_name, instance_id, attempt_no)
);

CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  time_us INTEGER NOT NULL,
  type TEXT NOT NULL,
  job_id TEXT NOT NULL,
  task_name TEXT NOT NULL DEFAULT '',
  instance_id INTEGER,
  state TEXT NOT NULL DEFAULT '',
  detail_json TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  cluster_id TEXT NOT NULL,
  hostname TEXT NOT NULL,
  slots INTEGER NOT NULL,
  registered_us INTEGER NOT NULL,
  heartbeat_us INTEGER NOT NULL
);

CREATE TABLE access_keys (
  id TEXT PRIMARY KEY,
  secret TEXT NOT NULL,
  owner_id INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_us INTEGER NOT NULL
);
`,
  },
  {
    version: 2,
    sql: `
-- Owner ids are never reused (AUTOINCREMENT): jobs outlive their user and must not pass to a new one.
CREATE TABLE users (
  owner_id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  created_us INTEGER NOT NULL
);
INSERT INTO users (owner_id, name, created_us) VALUES (1, 'admin', 0);

-- Replay protection: a signature nonce per key, remembered through the date skew window.
CREATE TABLE nonces (
  access_key_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  expires_us INTEGER NOT NULL,
  PRIMARY KEY (access_key_id, nonce)
);
CREATE INDEX nonces_expiry ON nonces (expires_us);

-- Object buckets belong to the first user who writes to them.
CREATE TABLE buckets (
  name TEXT PRIMARY KEY,
  owner_id INTEGER NOT NULL,
  created_us INTEGER NOT NULL
);

CREATE INDEX access_keys_owner ON access_keys (owner_id, created_us);
CREATE INDEX jobs_owner ON jobs (owner_id, seq);
`,
  },
  {
    version: 3,
    sql: `
-- What an attempt used, measured by its cgroup (NULL when not measured); the instance shows its last attempt's.
ALTER TABLE attempts ADD COLUMN cpu_ms INTEGER;
ALTER TABLE attempts ADD COLUMN peak_memory_bytes INTEGER;
ALTER TABLE instances ADD COLUMN cpu_ms INTEGER;
ALTER TABLE instances ADD COLUMN peak_memory_bytes INTEGER;
`,
  },
  {
    version: 4,
    sql: `
-- Images users registered (RootFs archives and Docker images); the built-in ones are not stored.
CREATE TABLE images (
  id TEXT PRIMARY KEY,
  owner_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  platform TEXT NOT NULL,
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  archive TEXT NOT NULL,
  ecs_image_id TEXT NOT NULL,
  idempotent_token TEXT,
  created_us INTEGER NOT NULL,
  UNIQUE (owner_id, idempotent_token)
);
CREATE INDEX images_owner ON images (owner_id, id);
`,
  },
  {
    version: 5,
    sql: `
-- Clusters (spec §5.8): the description as the API shows it, as JSON. The default cluster, cls-local, is
-- written by the server at start; it belongs to the service (owner 0).
CREATE TABLE clusters (
  id TEXT PRIMARY KEY,
  owner_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  state TEXT NOT NULL,
  spec_json TEXT NOT NULL,
  idempotent_token TEXT,
  created_us INTEGER NOT NULL,
  UNIQUE (owner_id, idempotent_token)
);
CREATE INDEX clusters_owner ON clusters (owner_id, id);

-- A worker is one of its cluster's groups; Deleting = asked to leave (it finishes what it runs).
ALTER TABLE workers ADD COLUMN group_name TEXT NOT NULL DEFAULT '';
ALTER TABLE workers ADD COLUMN state TEXT NOT NULL DEFAULT 'Running';
CREATE INDEX workers_cluster ON workers (cluster_id, group_name, id);

-- Until now every task ran on the server's own worker, now the default cluster's.
UPDATE tasks SET cluster_id = 'cls-local';
UPDATE queue SET cluster_id = 'cls-local';
CREATE INDEX tasks_cluster ON tasks (cluster_id, state);
-- Workers claim from their own cluster's queue only, in dispatch order.
DROP INDEX queue_order;
CREATE INDEX queue_order ON queue (cluster_id, priority DESC, job_seq, task_order, instance_id);
`,
  },
  {
    version: 6,
    sql: `
-- Worker tokens: what an agent authenticates with. Each is bound to one cluster; only a hash of its
-- secret is kept.
CREATE TABLE worker_tokens (
  id TEXT PRIMARY KEY,
  cluster_id TEXT NOT NULL,
  owner_id INTEGER NOT NULL,
  secret_hash TEXT NOT NULL,
  created_us INTEGER NOT NULL
);
CREATE INDEX worker_tokens_cluster ON worker_tokens (cluster_id, id);
`,
  },
  {
    version: 7,
    sql: `
-- What a worker's machine holds (0 = not said): a claim takes only attempts whose instance types fit.
ALTER TABLE workers ADD COLUMN cpu_millis INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN memory_bytes INTEGER NOT NULL DEFAULT 0;
`,
  },
  {
    version: 8,
    sql: `
-- Fair share: claims take turns between the owners with work queued at the same priority.
ALTER TABLE queue ADD COLUMN owner_id INTEGER NOT NULL DEFAULT 0;
UPDATE queue SET owner_id = (SELECT owner_id FROM jobs WHERE jobs.id = queue.job_id);
CREATE INDEX queue_owner_order ON queue (cluster_id, owner_id, priority DESC, job_seq, task_order, instance_id);
`,
  },
  {
    version: 9,
    sql: `
-- Retry backoff: a retried instance is not claimed before this time (0 = at once).
ALTER TABLE queue ADD COLUMN not_before_us INTEGER NOT NULL DEFAULT 0;
-- An owner's running instances (quotas, pending reasons) without reading their whole job history.
CREATE INDEX jobs_owner_state ON jobs (owner_id, state);
`,
  },
  {
    version: 10,
    sql: `
-- Fresh instances: those of a task that never started have no row (a task of 10,000,000 is one row).
-- Ids below fresh_from have rows; ids from fresh_from to instance_count - 1 are fresh, all in fresh_state
-- (Waiting, or Stopped once their job was halted). Tasks made before this keep their rows.
ALTER TABLE tasks ADD COLUMN fresh_from INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN fresh_state TEXT NOT NULL DEFAULT 'Waiting';
UPDATE tasks SET fresh_from = instance_count;
-- A queue row stands for span consecutive instances from instance_id: a task's fresh instances are one row.
ALTER TABLE queue ADD COLUMN span INTEGER NOT NULL DEFAULT 1;
-- A deleted job is gone for the API at once; its rows and logs are purged in batches after.
ALTER TABLE jobs ADD COLUMN deleted_us INTEGER;
CREATE INDEX jobs_deleted ON jobs (deleted_us) WHERE deleted_us IS NOT NULL;
`,
  },
];
