import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baselineJob, expectInvalid, jobWith, type Json } from './fixture.js';
import { validateJobDescription } from './job.js';
import { JOB_EVENTS } from './limits.js';

function logCountTask(name: string, instanceCount: number, input: string, output: string) {
  return {
    name,
    instanceCount,
    timeoutSec: 600,
    maxRetryCount: 0,
    clusterId: 'cls-local',
    autoCluster: null,
    commandLine: `python ${name}.py`,
    packagePath: 'oss://shoal-test/log-count/worker.tar.gz',
    envVars: {},
    stdoutRedirectPath: 'oss://shoal-test/log-count/logs/',
    stderrRedirectPath: 'oss://shoal-test/log-count/logs/',
    inputMappings: [{ source: `oss://shoal-test/log-count/${input}/`, destination: '/home/input' }],
    outputMappings: [{ source: '/home/output', destination: `oss://shoal-test/log-count/${output}/` }],
    logMappings: [],
    writeSupport: true,
    networkAccess: true,
  };
}

test('the log-count job validates to the expected JobSpec', () => {
  assert.deepEqual(validateJobDescription(baselineJob()), {
    name: 'log-count',
    description: 'split a log, count words in 3 parts, merge the counts',
    priority: 1,
    jobFailOnInstanceFail: true,
    autoRelease: false,
    notification: null,
    tasks: [
      logCountTask('split', 1, 'data', 'split'),
      logCountTask('count', 3, 'split', 'count'),
      logCountTask('merge', 1, 'count', 'result'),
    ],
    predecessors: { split: [], count: ['split'], merge: ['count'] },
  });
});

test('the input is not mutated', () => {
  const job = baselineJob();
  jobWith(['DAG', 'Tasks', 'count', 'Parameters', 'StdoutRedirectPath'], 'oss://shoal-test/no-slash', job);
  const before = structuredClone(job);
  validateJobDescription(job);
  assert.deepEqual(job, before);
});

test('the body must be a JSON object', () => {
  for (const [body, shown] of [
    [[], '[]'],
    ['job', '"job"'],
    [null, 'null'],
  ] as const) {
    expectInvalid(body, {
      code: 'InvalidJobDescription',
      field: 'JobDescription',
      message: `JobDescription field JobDescription is not valid: must be a JSON object, got ${shown}.`,
    });
  }
});

test('Type: absent or DAG is accepted, App is not supported yet, anything else is invalid', () => {
  assert.equal(validateJobDescription(jobWith(['Type'], undefined)).name, 'log-count');
  expectInvalid(jobWith(['Type'], 'App'), {
    code: 'InvalidJobDescription',
    field: 'Type',
    message: 'JobDescription field Type is not valid: App jobs are not supported yet; use "DAG", got "App".',
  });
  expectInvalid(jobWith(['Type'], 'dag'), {
    code: 'InvalidJobDescription',
    field: 'Type',
    message: 'JobDescription field Type is not valid: must be "DAG" or "App", got "dag".',
  });
});

const NAME_RULE = "must be 1-100 characters of A-Z, a-z, 0-9, '_' and '-'";

test('Name is required', () => {
  expectInvalid(jobWith(['Name'], undefined), {
    code: 'MissingParameter',
    field: 'Name',
    message: 'Required parameter Name is missing.',
  });
});

test('Name must be 1-100 characters of [A-Za-z0-9_-]', () => {
  assert.equal(validateJobDescription(jobWith(['Name'], 'A_b-9'.padEnd(100, 'x'))).name.length, 100);
  for (const [name, shown] of [
    ['', '""'],
    ['log count', '"log count"'],
    ['x'.repeat(101), `"${'x'.repeat(101)}"`],
    [7, '7'],
  ] as const) {
    expectInvalid(jobWith(['Name'], name), {
      code: 'InvalidJobDescription',
      field: 'Name',
      message: `JobDescription field Name is not valid: ${NAME_RULE}, got ${shown}.`,
    });
  }
});

test('Description is an optional string of at most 1000 characters', () => {
  assert.equal(validateJobDescription(jobWith(['Description'], undefined)).description, '');
  assert.equal(validateJobDescription(jobWith(['Description'], 'd'.repeat(1000))).description.length, 1000);
  expectInvalid(jobWith(['Description'], 'd'.repeat(1001)), {
    code: 'InvalidJobDescription',
    field: 'Description',
    message: `JobDescription field Description is not valid: must be at most 1000 characters, got "${'d'.repeat(116)}....`,
  });
  expectInvalid(jobWith(['Description'], ['x']), {
    code: 'InvalidJobDescription',
    field: 'Description',
    message: 'JobDescription field Description is not valid: must be a string, got ["x"].',
  });
});

test('Priority: integer 0..1000, default 1, decimal strings accepted', () => {
  const priority = (value: unknown) => validateJobDescription(jobWith(['Priority'], value)).priority;
  assert.equal(priority(undefined), 1);
  assert.equal(priority(null), 1);
  assert.equal(priority(0), 0);
  assert.equal(priority(1000), 1000);
  assert.equal(priority('5'), 5);
  for (const [value, shown] of [
    [1.5, '1.5'],
    ['abc', '"abc"'],
    ['1.0', '"1.0"'],
    ['', '""'],
    [true, 'true'],
    [-1, '-1'],
    ['-1', '"-1"'],
    [1001, '1001'],
  ] as const) {
    expectInvalid(jobWith(['Priority'], value), {
      code: 'InvalidJobDescription',
      field: 'Priority',
      message: `JobDescription field Priority is not valid: must be an integer from 0 to 1000, got ${shown}.`,
    });
  }
});

test('JobFailOnInstanceFail and AutoRelease: booleans or "true"/"false" strings, with defaults', () => {
  const spec = (job: Json) => validateJobDescription(job);
  assert.equal(spec(jobWith(['JobFailOnInstanceFail'], undefined)).jobFailOnInstanceFail, true);
  assert.equal(spec(jobWith(['JobFailOnInstanceFail'], 'FALSE')).jobFailOnInstanceFail, false);
  assert.equal(spec(jobWith(['AutoRelease'], undefined)).autoRelease, false);
  assert.equal(spec(jobWith(['AutoRelease'], 'True')).autoRelease, true);
  expectInvalid(jobWith(['JobFailOnInstanceFail'], 'yes'), {
    code: 'InvalidJobDescription',
    field: 'JobFailOnInstanceFail',
    message: 'JobDescription field JobFailOnInstanceFail is not valid: must be true or false, got "yes".',
  });
  expectInvalid(jobWith(['AutoRelease'], 1), {
    code: 'InvalidJobDescription',
    field: 'AutoRelease',
    message: 'JobDescription field AutoRelease is not valid: must be true or false, got 1.',
  });
});

test('Notification: a Topic with known events; empty or null Topic means none', () => {
  const topic = { Name: 'jobs', Endpoint: 'http://127.0.0.1:9/', Events: ['OnJobFinished', 'OnJobFailed'] };
  assert.deepEqual(validateJobDescription(jobWith(['Notification'], { Topic: topic })).notification, {
    topicName: 'jobs',
    endpoint: 'http://127.0.0.1:9/',
    events: ['OnJobFinished', 'OnJobFailed'],
  });
  for (const notification of [
    undefined,
    null,
    {},
    { Topic: null },
    { Topic: {} },
    { Topic: { Events: [] } },
  ]) {
    assert.equal(validateJobDescription(jobWith(['Notification'], notification)).notification, null);
  }
  assert.equal(JOB_EVENTS.length, 16);
});

test('Notification: an unknown event is named by its index', () => {
  expectInvalid(
    jobWith(['Notification'], { Topic: { Name: 't', Events: ['OnJobFailed', 'OnJobExploded'] } }),
    {
      code: 'InvalidJobDescription',
      field: 'Notification.Topic.Events[1]',
      message:
        'JobDescription field Notification.Topic.Events[1] is not valid: unknown event; known events are ' +
        `${JOB_EVENTS.join(', ')}, got "OnJobExploded".`,
    },
  );
  expectInvalid(jobWith(['Notification'], { Topic: { Events: 'OnJobFailed' } }), {
    code: 'InvalidJobDescription',
    field: 'Notification.Topic.Events',
    message:
      'JobDescription field Notification.Topic.Events is not valid: must be a list of event names, got "OnJobFailed".',
  });
  expectInvalid(jobWith(['Notification'], { Topic: { Endpoint: 42 } }), {
    code: 'InvalidJobDescription',
    field: 'Notification.Topic.Endpoint',
    message: 'JobDescription field Notification.Topic.Endpoint is not valid: must be a string, got 42.',
  });
  expectInvalid(jobWith(['Notification'], 'on'), {
    code: 'InvalidJobDescription',
    field: 'Notification',
    message: 'JobDescription field Notification is not valid: must be an object, got "on".',
  });
});

test('DAG and DAG.Tasks are required', () => {
  expectInvalid(jobWith(['DAG'], undefined), {
    code: 'MissingParameter',
    field: 'DAG',
    message: 'Required parameter DAG is missing.',
  });
  expectInvalid(jobWith(['DAG'], []), {
    code: 'InvalidJobDescription',
    field: 'DAG',
    message: 'JobDescription field DAG is not valid: must be an object, got [].',
  });
  expectInvalid(jobWith(['DAG', 'Tasks'], undefined), {
    code: 'MissingParameter',
    field: 'DAG.Tasks',
    message: 'Required parameter DAG.Tasks is missing.',
  });
});

test('DAG.Tasks holds 1..1000 tasks', () => {
  expectInvalid(jobWith(['DAG'], { Tasks: {} }), {
    code: 'InvalidJobDescription',
    field: 'DAG.Tasks',
    message: 'JobDescription field DAG.Tasks is not valid: must contain at least one task, got {}.',
  });
  const one = (baselineJob().DAG as { Tasks: Json }).Tasks.split;
  const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, one]));
  assert.equal(validateJobDescription(jobWith(['DAG'], { Tasks: many(1000) })).tasks.length, 1000);
  expectInvalid(jobWith(['DAG'], { Tasks: many(1001) }), {
    code: 'InvalidJobDescription',
    field: 'DAG.Tasks',
    message: 'JobDescription field DAG.Tasks is not valid: must contain at most 1000 tasks, got 1001.',
  });
});

test('task names must be 1-100 characters of [A-Za-z0-9_-]', () => {
  const split = (baselineJob().DAG as { Tasks: Json }).Tasks.split;
  expectInvalid(jobWith(['DAG'], { Tasks: { 'split it': split } }), {
    code: 'InvalidJobDescription',
    field: 'DAG.Tasks["split it"]',
    message: `JobDescription field DAG.Tasks["split it"] is not valid: task names ${NAME_RULE}, got "split it".`,
  });
  expectInvalid(jobWith(['DAG'], { Tasks: { ['t'.repeat(101)]: split } }), {
    code: 'InvalidJobDescription',
    field: `DAG.Tasks.${'t'.repeat(101)}`,
    message: `JobDescription field DAG.Tasks.${'t'.repeat(101)} is not valid: task names ${NAME_RULE}, got "${'t'.repeat(101)}".`,
  });
});

test('job fields are checked before tasks, tasks in the order written', () => {
  const job = jobWith(['Priority'], -5);
  jobWith(['DAG', 'Tasks', 'split', 'InstanceCount'], 0, job);
  expectInvalid(job, {
    code: 'InvalidJobDescription',
    field: 'Priority',
    message: 'JobDescription field Priority is not valid: must be an integer from 0 to 1000, got -5.',
  });
  const tasks = jobWith(['DAG', 'Tasks', 'merge', 'Timeout'], 0);
  jobWith(['DAG', 'Tasks', 'count', 'Timeout'], 'x', tasks);
  expectInvalid(tasks, {
    code: 'InvalidJobDescription',
    field: 'DAG.Tasks.count.Timeout',
    message:
      'JobDescription field DAG.Tasks.count.Timeout is not valid: must be an integer from 1 to 2000000, got "x".',
  });
});
