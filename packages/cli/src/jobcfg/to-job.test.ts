import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIni } from './parse.js';
import { buildJob, jobSourceFromIni, singleTaskSource, type Settings } from './to-job.js';

const RUN = '00000000-0000-4000-8000-000000000000';
const base = { cwd: '/work', osspath: 'oss://shoal/cli/', runId: RUN };

// The log-count job of seed 002 (user guide, "Docker 作业示例").
const LOG_COUNT = `[DEFAULT]
job_name=log-count
description=demo
pack=./log-count/
deps=split->count;count->merge

[split]
cmd=python split.py

[count]
cmd=python count.py
nodes=3

[merge]
cmd=python merge.py
`;

function fromCfg(text: string, cli: Settings = {}) {
  return buildJob(jobSourceFromIni(parseIni(text), '/jobs'), { ...base, cli });
}

test('the log-count job.cfg with -r and -w gives split -> count (3 nodes) -> merge', () => {
  const { description, packs } = fromCfg(LOG_COUNT, {
    read_mount: 'oss://your-bucket/log-count/:/home/input',
    write_mount: 'oss://your-bucket/log-count/:/home/output',
  });
  assert.equal(description.Name, 'log-count');
  assert.equal(description.Description, 'demo');
  assert.equal(description.Priority, 1);
  assert.equal(description.Type, 'DAG');
  assert.equal(description.JobFailOnInstanceFail, true);
  assert.deepEqual(Object.keys(description.DAG.Tasks), ['split', 'count', 'merge']);
  assert.deepEqual(description.DAG.Dependencies, { split: ['count'], count: ['merge'] });
  const { split, count, merge } = description.DAG.Tasks;
  assert.equal(split!.InstanceCount, 1);
  assert.equal(count!.InstanceCount, 3);
  assert.equal(merge!.Parameters.Command.CommandLine, 'python merge.py');
  for (const task of [split!, count!, merge!]) {
    assert.deepEqual(task.InputMapping, { 'oss://your-bucket/log-count/': '/home/input' });
    assert.deepEqual(task.OutputMapping, { '/home/output': 'oss://your-bucket/log-count/' });
    assert.equal(task.Parameters.Command.PackagePath, `oss://shoal/cli/${RUN}/worker.tar.gz`);
    assert.equal(task.Parameters.StdoutRedirectPath, `oss://shoal/cli/${RUN}/logs/`);
    assert.equal(task.Timeout, 86400);
  }
  assert.deepEqual(packs, [
    {
      objectUri: `oss://shoal/cli/${RUN}/worker.tar.gz`,
      paths: ['/jobs/log-count'],
      tasks: ['split', 'count', 'merge'],
    },
  ]);
});

test('a single command gets exactly the bcs defaults', () => {
  const { description, packs } = buildJob(singleTaskSource('/work'), {
    ...base,
    cli: { cmd: '/bin/echo hi' },
  });
  assert.deepEqual(description, {
    Name: 'cli-job',
    Description: 'BatchCompute cli job',
    Priority: 1,
    Type: 'DAG',
    JobFailOnInstanceFail: true,
    AutoRelease: false,
    DAG: {
      Tasks: {
        task: {
          InstanceCount: 1,
          Timeout: 86400,
          MaxRetryCount: 0,
          ClusterId: '',
          AutoCluster: {
            ImageId: 'img-ubuntu',
            InstanceType: 'shoal.local',
            ResourceType: 'OnDemand',
            ReserveOnFail: false,
          },
          InputMapping: {},
          OutputMapping: {},
          LogMapping: {},
          WriteSupport: true,
          Parameters: {
            Command: { CommandLine: '/bin/echo hi', PackagePath: '', EnvVars: {} },
            InputMappingConfig: { Lock: false },
            StdoutRedirectPath: `oss://shoal/cli/${RUN}/logs/`,
            StderrRedirectPath: `oss://shoal/cli/${RUN}/logs/`,
          },
        },
      },
      Dependencies: {},
    },
  });
  assert.deepEqual(packs, []);
});

test('command-line options map onto the description', () => {
  const { description, packs } = buildJob(singleTaskSource('/work'), {
    ...base,
    osspath: 'oss://b/p',
    cli: {
      cmd: 'run',
      job_name: 'named',
      description: 'd',
      nodes: '4',
      force: 'true',
      auto_release: 'true',
      priority: '9',
      timeout: '60',
      cluster: 'img=img-custom:type=big',
      env: 'A:1',
      log_mapping: 'oss://b/logs/:/tmp/app.log',
      max_retry_count: '2',
      pack: 'src,main.py',
    },
  });
  const task = description.DAG.Tasks['task']!;
  assert.equal(description.Name, 'named');
  assert.equal(description.JobFailOnInstanceFail, false);
  assert.equal(description.AutoRelease, true);
  assert.equal(description.Priority, 9);
  assert.equal(task.InstanceCount, 4);
  assert.equal(task.Timeout, 60);
  assert.equal(task.MaxRetryCount, 2);
  assert.deepEqual(task.AutoCluster, {
    ImageId: 'img-custom',
    InstanceType: 'big',
    ResourceType: 'OnDemand',
    ReserveOnFail: false,
  });
  assert.deepEqual(task.LogMapping, { '/tmp/app.log': 'oss://b/logs/' });
  assert.equal(task.Parameters.StdoutRedirectPath, `oss://b/p/${RUN}/logs/`);
  assert.deepEqual(packs[0]!.paths, ['/work/src', '/work/main.py']);
  const onCluster = buildJob(singleTaskSource('/'), { ...base, cli: { cmd: 'x', cluster: 'cls-abc' } });
  assert.equal(onCluster.description.DAG.Tasks['task']!.ClusterId, 'cls-abc');
  assert.equal(onCluster.description.DAG.Tasks['task']!.AutoCluster, undefined);
});

test('precedence: command line > task section > DEFAULT; env and mounts merge', () => {
  const cfg = `[DEFAULT]
env = A:default,B:default
read_mount = oss://b/shared/:/in/shared
timeout = 100
image = img-default
nodes = 2
[one]
cmd = a
env = B:task,C:task
read_mount = oss://b/one/:/in/one
timeout = 200
[two]
cmd = b
cluster = img=img-two:type=t2
`;
  const { description } = fromCfg(cfg, { env: 'C:cli', timeout: '300', type: 'cli-type' });
  const one = description.DAG.Tasks['one']!;
  const two = description.DAG.Tasks['two']!;
  assert.deepEqual(one.Parameters.Command.EnvVars, { A: 'default', B: 'task', C: 'cli' });
  assert.deepEqual(one.InputMapping, { 'oss://b/shared/': '/in/shared', 'oss://b/one/': '/in/one' });
  assert.equal(one.Timeout, 300);
  assert.equal(one.InstanceCount, 2);
  assert.equal(one.AutoCluster!.ImageId, 'img-default');
  assert.equal(one.AutoCluster!.InstanceType, 'cli-type');
  assert.equal(two.AutoCluster!.ImageId, 'img-two');
  assert.equal(two.AutoCluster!.InstanceType, 'cli-type');
  assert.deepEqual(two.Parameters.Command.EnvVars, { A: 'default', B: 'default', C: 'cli' });
});

test('mount and docker merge like env: a mount per destination, the docker variables into EnvVars', () => {
  const cfg = `[DEFAULT]
mount = file:///srv/ref/:/ref,oss://b/shared/:/shared
docker = team/app:v1@oss://b/dockers/
[one]
cmd = a
mount = file:///srv/other/:/ref
[two]
cmd = b
env = BATCH_COMPUTE_DOCKER_IMAGE:overridden
`;
  const { description } = fromCfg(cfg, { mount: 'nas://fs-1:/scratch/:/scratch:true' });
  const one = description.DAG.Tasks['one']!;
  assert.deepEqual(one.Mounts, {
    Entries: [
      { Source: 'file:///srv/other/', Destination: '/ref', WriteSupport: false },
      { Source: 'oss://b/shared/', Destination: '/shared', WriteSupport: false },
      { Source: 'nas://fs-1:/scratch/', Destination: '/scratch', WriteSupport: true },
    ],
  });
  assert.deepEqual(one.Parameters.Command.EnvVars, {
    BATCH_COMPUTE_DOCKER_IMAGE: 'team/app:v1',
    BATCH_COMPUTE_DOCKER_REGISTRY_OSS_PATH: 'oss://b/dockers/',
  });
  assert.equal(
    description.DAG.Tasks['two']!.Parameters.Command.EnvVars!.BATCH_COMPUTE_DOCKER_IMAGE,
    'overridden',
  );
  assert.equal(fromCfg('[t]\ncmd = x\n').description.DAG.Tasks['t']!.Mounts, undefined);
});

test('distinct packs per task become worker_<task>.tar.gz, resolved against the file', () => {
  const cfg = `[DEFAULT]
pack = ./common/
[a]
cmd = x
[b]
cmd = y
pack = ./b-only/,extra.sh
[c]
cmd = z
`;
  const { description, packs } = fromCfg(cfg);
  assert.deepEqual(
    packs.map((p) => [p.objectUri.replace(`oss://shoal/cli/${RUN}/`, ''), p.paths, p.tasks]),
    [
      ['worker.tar.gz', ['/jobs/common'], ['a', 'c']],
      ['worker_b.tar.gz', ['/jobs/b-only', '/jobs/extra.sh'], ['b']],
    ],
  );
  assert.equal(
    description.DAG.Tasks['b']!.Parameters.Command.PackagePath,
    `oss://shoal/cli/${RUN}/worker_b.tar.gz`,
  );
  // A pack given on the command line is relative to the working directory and replaces the file's.
  const cli = fromCfg(cfg, { pack: 'here' });
  assert.deepEqual(
    cli.packs.map((p) => p.paths),
    [['/work/here']],
  );
});

test('missing cmd names the section; bad values are reported', () => {
  assert.throws(
    () => fromCfg('[split]\ncmd = a\n[count]\nnodes = 3\n'),
    /^JobConfigError: Missing required option: cmd \(in section \[count\]\)$/,
  );
  assert.throws(
    () => buildJob(singleTaskSource('/'), { ...base, cli: {} }),
    /^JobConfigError: Missing required option: cmd$/,
  );
  assert.throws(() => fromCfg('[DEFAULT]\nforce = maybe\n[t]\ncmd = a\n'), /force: expected true or false/);
  assert.throws(() => fromCfg('[t]\ncmd = a\nmax_retry_count = -1\n'), /max_retry_count/);
  assert.throws(() => fromCfg('[DEFAULT]\njob_name = x\n'), /no tasks/);
});

test('job-level options from DEFAULT or a task section; timeouts with units', () => {
  const { description } = fromCfg(`[DEFAULT]
priority = 7
force = yes
[t]
cmd = a
nodes = 4
timeout = 1h30m
auto_release = on
description = from section
`);
  assert.equal(description.Priority, 7);
  assert.equal(description.JobFailOnInstanceFail, false);
  assert.equal(description.AutoRelease, true);
  assert.equal(description.Description, 'from section');
  assert.equal(description.DAG.Tasks['t']!.InstanceCount, 4);
  assert.equal(description.DAG.Tasks['t']!.Timeout, 5400);
});

test('unusable numbers are refused, naming the file, line, key and section (bcs replaced them silently)', () => {
  const cases: [string, RegExp][] = [
    [
      '[DEFAULT]\npriority = high\n[t]\ncmd = a\n',
      /^job\.cfg:2: priority in \[DEFAULT\]: "high" is not valid: expected a whole number from 0 to 1000$/,
    ],
    [
      '[t]\ncmd = a\nnodes = 0\n',
      /^job\.cfg:3: nodes in \[t\]: "0" is not valid: expected a whole number >= 1$/,
    ],
    ['[t]\ncmd = a\ntimeout = -5\n', /^job\.cfg:3: timeout in \[t\]: "-5" is not valid: expected a duration/],
    ['[t]\ncmd = a\nmax_retry_count = 1.5\n', /^job\.cfg:3: max_retry_count in \[t\]: "1\.5"/],
    [
      '[t]\ncmd = a\nresource_type = Cheap\n',
      /resource_type in \[t\]: "Cheap" is not valid: expected one of OnDemand, Spot/,
    ],
  ];
  for (const [text, message] of cases)
    assert.throws(() => fromCfg(text), { name: 'JobConfigError', message });
  // The same checks name the flag when the value came from the command line.
  assert.throws(() => fromCfg('[t]\ncmd = a\n', { nodes: 'abc' }), {
    message: /^option -n\/--nodes: "abc" is not valid: expected a whole number >= 1$/,
  });
});

test('an unknown job.cfg key is refused with its line and the closest known key; cloud-only keys warn', () => {
  assert.throws(() => fromCfg('[DEFAULT]\njob_name = x\n[count]\ncmd = a\nnodez = 3\n'), {
    name: 'JobConfigError',
    message: 'job.cfg:5: unknown option "nodez" in [count]; did you mean "nodes"?',
  });
  assert.throws(() => fromCfg('[t]\ncmd = a\ncolour = red\n'), {
    message: 'job.cfg:3: unknown option "colour" in [t]',
  });
  const { warnings } = fromCfg('[t]\ncmd = a\ndisk = system:cloud:40\n');
  assert.deepEqual(warnings, [
    'job.cfg:3: "disk" in [t] has no effect in Shoal (a bcs cloud option); ignored',
  ]);
});

test('deps naming a task the job does not have are refused before anything is submitted or drawn', () => {
  assert.throws(() => fromCfg('[DEFAULT]\ndeps = split->count\n[split]\ncmd = a\n'), {
    name: 'JobConfigError',
    message: 'deps: "count" is not a task of this job (tasks: split)',
  });
});

test('notification, resource type, reserve_on_fail and user_data reach the description', () => {
  const { description } = fromCfg(`[DEFAULT]
notification_endpoint = http://127.0.0.1:9/hook
notification_events = OnJobFinished, OnJobFailed
[t]
cmd = a
resource_type = Spot
reserve_on_fail = true
user_data = a:1,b:2
`);
  assert.deepEqual(description.Notification, {
    Topic: { Endpoint: 'http://127.0.0.1:9/hook', Events: ['OnJobFinished', 'OnJobFailed'] },
  });
  const auto = description.DAG.Tasks['t']!.AutoCluster!;
  assert.equal(auto.ResourceType, 'Spot');
  assert.equal(auto.ReserveOnFail, true);
  assert.deepEqual(auto.UserData, { a: '1', b: '2' });
});
