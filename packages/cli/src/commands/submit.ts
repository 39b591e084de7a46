/**
 * `shoal sub "<cmd>" [job_name]` (`submit`): bcs's job submission, from options and/or a job.cfg.
 * Packages are uploaded through the server's object routes, so the CLI never needs store credentials.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ShoalClient } from '@shoal/sdk';
import { CliError, UsageError, type CliContext, type CommandRegistrar } from '../context.js';
import { retireJobRows } from '../cache.js';
import { openSession, withConnectionOptions, type ConnectionFlags } from '../connection.js';
import { loadConfig } from '../config.js';
import { ByteBar } from '../format/bar.js';
import { renderDag } from '../format/dag.js';
import { ProgressWriter } from '../format/progress.js';
import { parseIni } from '../jobcfg/parse.js';
import {
  buildJob,
  JOB_DEFAULTS,
  jobSourceFromIni,
  singleTaskSource,
  type BuiltJob,
  type JobSource,
  type Settings,
} from '../jobcfg/to-job.js';
import { checkedText, durationSeconds, wholeNumber } from '../option-values.js';
import { packToTarGz } from '../pack.js';

interface SubmitFlags extends ConnectionFlags {
  nodes?: string;
  force?: boolean;
  auto_release?: boolean;
  description?: string;
  pack?: string;
  priority?: string;
  timeout?: string;
  cluster?: string;
  image?: string;
  type?: string;
  env?: string;
  read_mount?: string;
  write_mount?: string;
  log_mapping?: string;
  mount?: string;
  docker?: string;
  max_retry_count?: string;
  osspath?: string;
  file?: string;
  show_json?: boolean;
  show_dag?: boolean;
  wait?: boolean;
}

/** Command-line values under their job.cfg names; absent options stay absent so the file shows through. */
export function cliSettings(
  cmd: string | undefined,
  jobName: string | undefined,
  flags: SubmitFlags,
): Settings {
  const settings: Record<string, string | undefined> = {
    cmd,
    job_name: jobName,
    description: flags.description,
    nodes: flags.nodes,
    force: flags.force ? 'true' : undefined,
    auto_release: flags.auto_release ? 'true' : undefined,
    pack: flags.pack,
    priority: flags.priority,
    timeout: flags.timeout,
    cluster: flags.cluster,
    image: flags.image,
    type: flags.type,
    env: flags.env,
    read_mount: flags.read_mount,
    write_mount: flags.write_mount,
    log_mapping: flags.log_mapping,
    mount: flags.mount,
    docker: flags.docker,
    max_retry_count: flags.max_retry_count,
  };
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
}

async function loadSource(file: string | undefined, ctx: CliContext): Promise<JobSource> {
  if (!file) return singleTaskSource(ctx.cwd);
  const path = resolve(ctx.cwd, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new CliError(`cannot read job file ${path}`);
  }
  return jobSourceFromIni(parseIni(text, file), dirname(path));
}

async function uploadPacks(client: ShoalClient, built: BuiltJob, ctx: CliContext): Promise<void> {
  for (const pack of built.packs) {
    const bytes = await packToTarGz(pack.paths);
    const bar = new ByteBar((t) => ctx.stderr.write(t), Boolean(ctx.stderr.isTTY), 'worker.tar.gz');
    await client.uploadFile(pack.objectUri, bytes, {
      onProgress: (p) => bar.update(p.loadedBytes, p.totalBytes),
    });
    bar.done();
    ctx.stderr.write(`Packed ${pack.paths.join(', ')} -> ${pack.objectUri} (${bytes.byteLength} bytes)\n`);
  }
}

async function submit(
  cmd: string | undefined,
  jobName: string | undefined,
  flags: SubmitFlags,
  ctx: CliContext,
): Promise<number> {
  if (!cmd && !flags.file)
    throw new UsageError(
      'Missing required option: cmd (shoal sub "<command line>" [job_name], or --file job.cfg)',
    );
  const source = await loadSource(flags.file, ctx);
  const runId = randomUUID();
  const built = buildJob(source, {
    cli: cliSettings(cmd, jobName, flags),
    cwd: ctx.cwd,
    osspath:
      flags.osspath ?? ctx.env['SHOAL_OSSPATH'] ?? (await loadConfig(ctx)).OssPath ?? JOB_DEFAULTS.osspath,
    runId,
  });
  for (const warning of built.warnings) ctx.stderr.write(`warning: ${warning}\n`);
  if (flags.show_json || flags.show_dag) {
    if (flags.show_json) ctx.stdout.write(`${JSON.stringify(built.description, null, 2)}\n`);
    if (flags.show_dag)
      ctx.stdout.write(renderDag(built.description.DAG.Tasks, built.description.DAG.Dependencies));
    return 0;
  }
  const session = await openSession(flags, ctx);
  const { client } = session;
  await retireJobRows(session, 'a job was submitted since');
  await uploadPacks(client, built, ctx);
  // The run id doubles as idempotency token, which makes a retried submission safe.
  const { Id } = await client.createJob(built.description, { idempotentToken: runId });
  ctx.stdout.write(`Job created: ${Id}\n`);
  if (!flags.wait) {
    ctx.stdout.write(`  see its progress with "shoal job ${Id}" and its output with "shoal log ${Id}"\n`);
    return 0;
  }
  const started = ctx.now();
  const progress = new ProgressWriter((text) => ctx.stderr.write(text), Boolean(ctx.stderr.isTTY));
  const job = await client.waitForJob(Id, {
    intervalMs: 500,
    onProgress: (j) => progress.update(j, ctx.now() - started),
  });
  progress.finish();
  ctx.stdout.write(`Job ${Id} ${job.State}${job.Message ? `: ${job.Message}` : ''}\n`);
  return job.State === 'Finished' ? 0 : 1;
}

export const registerSubmitCommand: CommandRegistrar = (program, ctx, exit) => {
  const command: Command = program
    .command('sub')
    .alias('submit')
    .description('submit a job: one command line, or the tasks of a job.cfg (--file)')
    .argument('[cmd]', 'command line of the task, e.g. "python main.py"')
    .argument('[job_name]', `job name (default ${JOB_DEFAULTS.name})`)
    .option(
      '-n, --nodes <n>',
      'instances of the task (InstanceCount), a whole number >= 1',
      checkedText((t) => wholeNumber(t, 1)),
    )
    .option('-f, --force', 'do not fail the job when an instance fails (JobFailOnInstanceFail=false)')
    .option('--auto_release', 'delete the job automatically after it finished')
    .option('-d, --description <text>', 'job description')
    .option('-p, --pack <paths>', 'folder, file or a,b,c to pack as worker.tar.gz')
    .option(
      '--priority <n>',
      'job priority, 0..1000 (default 1)',
      checkedText((t) => wholeNumber(t, 0, 1000)),
    )
    .option(
      '--timeout <duration>',
      `instance timeout: seconds, or with units d, h, m, s such as 90s, 10m, 1h30m (default ${JOB_DEFAULTS.timeoutSec})`,
      checkedText(durationSeconds),
    )
    .option('-c, --cluster <cluster>', 'cls-… (existing cluster) or img=<image>:type=<type> (auto cluster)')
    .option('-i, --image <image>', `image of the auto cluster (default ${JOB_DEFAULTS.imageId})`)
    .option('-t, --type <type>', `instance type of the auto cluster (default ${JOB_DEFAULTS.instanceType})`)
    .option('-e, --env <k:v,...>', 'environment variables')
    .option('-r, --read_mount <oss:local,...>', 'read-only inputs (InputMapping)')
    .option('-w, --write_mount <oss:local,...>', 'outputs uploaded when an instance ends (OutputMapping)')
    .option('--log_mapping <oss_dir:local_file,...>', 'local log files to copy to the object store')
    .option(
      '-m, --mount <src:dst[:true|false],...>',
      'Mounts: oss:// read-only, nas:// or file:// where the server allows (:true = writable)',
    )
    .option(
      '--docker <image[@oss://folder/]>',
      'run in a Docker image, loaded from <folder><name>.tar if given',
    )
    .option(
      '--max_retry_count <n>',
      'retries per instance, a whole number >= 0 (default 0)',
      checkedText((t) => wholeNumber(t, 0)),
    )
    .option(
      '--osspath <oss://bucket/prefix/>',
      `where packages and logs go (default ${JOB_DEFAULTS.osspath})`,
    )
    .option('--file <job.cfg>', 'job description in job.cfg format (one task per section)')
    .option('--show_json', 'print the JobDescription instead of submitting it')
    .option('--show_dag', 'draw the task graph instead of submitting')
    .option('--wait', 'show progress until the job ends; exit 0 only when it Finished');
  withConnectionOptions(command).action(
    async (cmd: string | undefined, jobName: string | undefined, flags: SubmitFlags) => {
      exit.code = await submit(cmd, jobName, flags, ctx);
    },
  );
};
