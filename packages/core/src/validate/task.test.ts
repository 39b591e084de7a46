import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskSpec } from '../job-spec.js';
import { expectInvalid, jobWith, taskWith, type Json } from './fixture.js';
import { validateJobDescription } from './job.js';

function countTask(job: Json): TaskSpec {
  const task = validateJobDescription(job).tasks.find((t) => t.name === 'count');
  assert.ok(task);
  return task;
}

const params = (key: string, value: unknown) => jobWith(['DAG', 'Tasks', 'count', 'Parameters', key], value);
const command = (key: string, value: unknown) =>
  jobWith(['DAG', 'Tasks', 'count', 'Parameters', 'Command', key], value);

function rejects(job: Json, field: string, rule: string, shown: string): void {
  expectInvalid(job, {
    code: 'InvalidJobDescription',
    field,
    message: `JobDescription field ${field} is not valid: ${rule}, got ${shown}.`,
  });
}

test('InstanceCount: integer 1..100000000, default 1', () => {
  assert.equal(countTask(taskWith('count', 'InstanceCount', undefined)).instanceCount, 1);
  assert.equal(countTask(taskWith('count', 'InstanceCount', '100000000')).instanceCount, 100_000_000);
  for (const [value, shown] of [
    [0, '0'],
    [-1, '-1'],
    [1.5, '1.5'],
    ['x', '"x"'],
    [100_000_001, '100000001'],
  ] as const) {
    const field = 'DAG.Tasks.count.InstanceCount';
    rejects(
      taskWith('count', 'InstanceCount', value),
      field,
      'must be an integer from 1 to 100000000',
      shown,
    );
  }
});

test('Timeout: integer seconds 1..2000000, default 86400', () => {
  assert.equal(countTask(taskWith('count', 'Timeout', undefined)).timeoutSec, 86400);
  for (const [value, shown] of [
    [-5, '-5'],
    [0, '0'],
    ['soon', '"soon"'],
    [2000001, '2000001'],
  ] as const) {
    const field = 'DAG.Tasks.count.Timeout';
    rejects(taskWith('count', 'Timeout', value), field, 'must be an integer from 1 to 2000000', shown);
  }
});

test('MaxRetryCount: integer 0..100, default 0', () => {
  assert.equal(countTask(taskWith('count', 'MaxRetryCount', undefined)).maxRetryCount, 0);
  assert.equal(countTask(taskWith('count', 'MaxRetryCount', 100)).maxRetryCount, 100);
  for (const [value, shown] of [
    [-1, '-1'],
    ['twice', '"twice"'],
    [101, '101'],
  ] as const) {
    const field = 'DAG.Tasks.count.MaxRetryCount';
    rejects(taskWith('count', 'MaxRetryCount', value), field, 'must be an integer from 0 to 100', shown);
  }
});

const AUTO = { ImageId: 'img-ubuntu', InstanceType: 'bcs.a2.large' };

test('cluster: either ClusterId or AutoCluster, not both, not neither', () => {
  const both = taskWith('count', 'AutoCluster', AUTO);
  rejects(both, 'DAG.Tasks.count.ClusterId', 'give either ClusterId or AutoCluster, not both', '"cls-local"');
  const neither = taskWith('count', 'ClusterId', undefined);
  rejects(neither, 'DAG.Tasks.count.ClusterId', 'one of ClusterId or AutoCluster is required', 'undefined');
  const empty = taskWith('count', 'ClusterId', '');
  jobWith(['DAG', 'Tasks', 'count', 'AutoCluster'], {}, empty);
  // An empty AutoCluster is read as one, so the error names what it lacks.
  expectInvalid(empty, {
    code: 'MissingParameter',
    field: 'DAG.Tasks.count.AutoCluster.ImageId',
    message:
      'Required parameter DAG.Tasks.count.AutoCluster.ImageId is missing. An AutoCluster needs ImageId (e.g. img-ubuntu) or ECSImageId, and usually InstanceType.',
  });
});

test('ClusterId must look like cls-...', () => {
  for (const [value, shown] of [
    ['my-cluster', '"my-cluster"'],
    ['cls-', '"cls-"'],
    [12, '12'],
  ] as const) {
    const field = 'DAG.Tasks.count.ClusterId';
    rejects(
      taskWith('count', 'ClusterId', value),
      field,
      "must be a cluster id like cls-... (letters, digits, '_', '-')",
      shown,
    );
  }
});

test('AutoCluster fields are read with defaults', () => {
  const job = taskWith('count', 'ClusterId', undefined);
  jobWith(['DAG', 'Tasks', 'count', 'AutoCluster'], { ECSImageId: 'm-abc', UserData: { a: 'b', n: 2 } }, job);
  const task = countTask(job);
  assert.equal(task.clusterId, '');
  assert.deepEqual(task.autoCluster, {
    imageId: '',
    ecsImageId: 'm-abc',
    instanceType: '',
    resourceType: 'OnDemand',
    reserveOnFail: false,
    userData: { a: 'b', n: '2' },
  });
});

test('AutoCluster: an image is required; ResourceType, ReserveOnFail and UserData are checked', () => {
  const auto = (value: unknown) =>
    jobWith(['DAG', 'Tasks', 'count', 'AutoCluster'], value, taskWith('count', 'ClusterId', ''));
  const path = 'DAG.Tasks.count.AutoCluster';
  expectInvalid(auto({ InstanceType: 't' }), {
    code: 'MissingParameter',
    field: `${path}.ImageId`,
    message:
      'Required parameter DAG.Tasks.count.AutoCluster.ImageId is missing. An AutoCluster needs ImageId (e.g. img-ubuntu) or ECSImageId, and usually InstanceType.',
  });
  rejects(auto({ ImageId: '' }), `${path}.ImageId`, 'one of ImageId or ECSImageId is required', '""');
  rejects(
    auto({ ...AUTO, ResourceType: 'Cheap' }),
    `${path}.ResourceType`,
    'must be one of OnDemand, Spot',
    '"Cheap"',
  );
  rejects(auto({ ...AUTO, ReserveOnFail: 'no' }), `${path}.ReserveOnFail`, 'must be true or false', '"no"');
  rejects(auto({ ...AUTO, UserData: { k: [1] } }), `${path}.UserData.k`, 'must be a string', '[1]');
  rejects(auto({ ...AUTO, ImageId: 5 }), `${path}.ImageId`, 'must be a string', '5');
  rejects(auto('img-ubuntu'), path, 'must be an object', '"img-ubuntu"');
});

test('Parameters, Command and CommandLine are required', () => {
  expectInvalid(taskWith('count', 'Parameters', undefined), {
    code: 'MissingParameter',
    field: 'DAG.Tasks.count.Parameters',
    message: 'Required parameter DAG.Tasks.count.Parameters is missing.',
  });
  expectInvalid(params('Command', undefined), {
    code: 'MissingParameter',
    field: 'DAG.Tasks.count.Parameters.Command',
    message: 'Required parameter DAG.Tasks.count.Parameters.Command is missing.',
  });
  expectInvalid(command('CommandLine', undefined), {
    code: 'MissingParameter',
    field: 'DAG.Tasks.count.Parameters.Command.CommandLine',
    message: 'Required parameter DAG.Tasks.count.Parameters.Command.CommandLine is missing.',
  });
  rejects(taskWith('count', 'Parameters', 'run'), 'DAG.Tasks.count.Parameters', 'must be an object', '"run"');
});

test('CommandLine: a non-empty string without NUL, at most 64 KiB', () => {
  const field = 'DAG.Tasks.count.Parameters.Command.CommandLine';
  assert.equal(countTask(command('CommandLine', 'x'.repeat(65536))).commandLine.length, 65536);
  rejects(command('CommandLine', ''), field, 'must be a non-empty string', '""');
  rejects(command('CommandLine', '  '), field, 'must be a non-empty string', '"  "');
  rejects(
    command('CommandLine', ['python', 'x.py']),
    field,
    'must be a non-empty string',
    '["python","x.py"]',
  );
  rejects(command('CommandLine', 'echo a\0b'), field, 'must not contain NUL characters', '"echo a\\u0000b"');
  rejects(
    command('CommandLine', 'x'.repeat(65537)),
    field,
    'must be at most 65536 bytes',
    `"${'x'.repeat(116)}...`,
  );
  // Refused at submit: a command line that cannot be split into arguments could never run.
  rejects(
    command('CommandLine', "echo 'unterminated"),
    field,
    'unterminated single quote: the quote at position 6 of the command line is never closed',
    `"echo 'unterminated"`,
  );
  rejects(
    command('CommandLine', 'sh -c "echo hi'),
    field,
    'unterminated double quote: the quote at position 7 of the command line is never closed',
    '"sh -c \\"echo hi"',
  );
});

test('PackagePath: empty, or an oss:// or s3:// .tar.gz/.tgz/.zip object', () => {
  const field = 'DAG.Tasks.count.Parameters.Command.PackagePath';
  assert.equal(countTask(command('PackagePath', '')).packagePath, '');
  assert.equal(countTask(command('PackagePath', undefined)).packagePath, '');
  assert.equal(countTask(command('PackagePath', 's3://pkgs/a/w.zip')).packagePath, 's3://pkgs/a/w.zip');
  assert.equal(countTask(command('PackagePath', 'oss://pkgs/w.tgz')).packagePath, 'oss://pkgs/w.tgz');
  rejects(
    command('PackagePath', 'http://pkgs/w.tar.gz'),
    field,
    'must start with oss:// or s3:// followed by a bucket name',
    '"http://pkgs/w.tar.gz"',
  );
  rejects(
    command('PackagePath', 'oss://pkgs/w.rar'),
    field,
    'must name a .tar.gz, .tgz or .zip package',
    '"oss://pkgs/w.rar"',
  );
  rejects(
    command('PackagePath', 'oss://Pkgs/w.zip'),
    field,
    `bucket name "Pkgs" must be 3-63 characters of a-z, 0-9, '.', '-'`,
    '"oss://Pkgs/w.zip"',
  );
});

test('EnvVars: valid names; numbers and booleans stringified as Python does; others rejected', () => {
  const env = (value: unknown) => command('EnvVars', value);
  assert.deepEqual(countTask(env({ A: 'x', _b2: 3, C: true, D: false, E: 1.5 })).envVars, {
    A: 'x',
    _b2: '3',
    C: 'True',
    D: 'False',
    E: '1.5',
  });
  const path = 'DAG.Tasks.count.Parameters.Command.EnvVars';
  const nameRule = 'environment variable names must match [A-Za-z_][A-Za-z0-9_]*';
  rejects(env({ '1X': 'v' }), `${path}.1X`, nameRule, '"1X"');
  rejects(env({ 'MY-VAR': 'v' }), `${path}.MY-VAR`, nameRule, '"MY-VAR"');
  rejects(env({ 'A B': 'v' }), `${path}["A B"]`, nameRule, '"A B"');
  rejects(env({ A: { x: 1 } }), `${path}.A`, 'must be a string', '{"x":1}');
  rejects(env({ A: ['x'] }), `${path}.A`, 'must be a string', '["x"]');
  rejects(env({ A: null }), `${path}.A`, 'must be a string', 'null');
  rejects(env(['A=1']), path, 'must be an object', '["A=1"]');
});

test('EnvVars: a "__proto__" name stays an ordinary variable', () => {
  const vars = countTask(command('EnvVars', JSON.parse('{"__proto__": "x"}'))).envVars;
  assert.equal(Object.getPrototypeOf(vars), Object.prototype);
  assert.deepEqual(Object.entries(vars), [['__proto__', 'x']]);
});

test('redirect paths: empty or an oss prefix, "/" appended', () => {
  assert.equal(
    countTask(params('StdoutRedirectPath', 'oss://logs-b/x')).stdoutRedirectPath,
    'oss://logs-b/x/',
  );
  assert.equal(countTask(params('StderrRedirectPath', '')).stderrRedirectPath, '');
  assert.equal(countTask(params('StderrRedirectPath', undefined)).stderrRedirectPath, '');
  rejects(
    params('StdoutRedirectPath', '/var/log/'),
    'DAG.Tasks.count.Parameters.StdoutRedirectPath',
    'must start with oss:// or s3:// followed by a bucket name',
    '"/var/log/"',
  );
  rejects(
    params('StderrRedirectPath', 'oss://bkt/../x/'),
    'DAG.Tasks.count.Parameters.StderrRedirectPath',
    "key must not contain '.' or '..' segments",
    '"oss://bkt/../x/"',
  );
});

test('WriteSupport is an optional boolean; Mounts, InputMappingConfig and Docker must be objects', () => {
  assert.equal(countTask(taskWith('count', 'WriteSupport', undefined)).writeSupport, true);
  assert.equal(countTask(taskWith('count', 'WriteSupport', 'false')).writeSupport, false);
  rejects(
    taskWith('count', 'WriteSupport', 'rw'),
    'DAG.Tasks.count.WriteSupport',
    'must be true or false',
    '"rw"',
  );
  rejects(taskWith('count', 'Mounts', []), 'DAG.Tasks.count.Mounts', 'must be an object', '[]');
  rejects(
    params('InputMappingConfig', 'GBK'),
    'DAG.Tasks.count.Parameters.InputMappingConfig',
    'must be an object',
    '"GBK"',
  );
  rejects(
    command('Docker', 'ubuntu'),
    'DAG.Tasks.count.Parameters.Command.Docker',
    'must be an object',
    '"ubuntu"',
  );
});

test('a task must be an object', () => {
  rejects(
    jobWith(['DAG', 'Tasks', 'count'], 'python count.py'),
    'DAG.Tasks.count',
    'must be an object',
    '"python count.py"',
  );
});

test('MaxRunningInstances (Shoal addition): integer 0..100000000, 0 or absent = no cap', () => {
  assert.equal(countTask(taskWith('count', 'MaxRunningInstances', undefined)).maxRunningInstances, undefined);
  assert.equal(countTask(taskWith('count', 'MaxRunningInstances', 0)).maxRunningInstances, undefined);
  assert.equal(countTask(taskWith('count', 'MaxRunningInstances', '8')).maxRunningInstances, 8);
  rejects(
    taskWith('count', 'MaxRunningInstances', -1),
    'DAG.Tasks.count.MaxRunningInstances',
    'must be an integer from 0 to 100000000',
    '-1',
  );
});

test('AttachCluster: AutoCluster.ClusterId needs no ImageId, and must look like a cluster id', () => {
  const attach = (id: string) =>
    jobWith(['DAG', 'Tasks', 'count', 'ClusterId'], '', taskWith('count', 'AutoCluster', { ClusterId: id }));
  const attached = countTask(attach('cls-farm'));
  assert.equal(attached.autoCluster?.clusterId, 'cls-farm');
  assert.equal(attached.clusterId, '');
  rejects(
    attach('farm'),
    'DAG.Tasks.count.AutoCluster.ClusterId',
    "must be a cluster id like cls-... (letters, digits, '_', '-')",
    '"farm"',
  );
});

test('RetryStrategy (Shoal addition): EvaluateOnExit rules, each field checked by name', () => {
  const strategy = (value: unknown) => taskWith('count', 'RetryStrategy', value);
  assert.deepEqual(
    countTask(
      strategy({
        EvaluateOnExit: [
          { OnExitCode: '137', Action: 'retry' },
          { OnErrorCode: 'Timeout', OnExitCode: '*', Action: 'EXIT' },
        ],
      }),
    ).retryRules,
    [
      { onExitCode: '137', action: 'RETRY' },
      { onExitCode: '*', onErrorCode: 'Timeout', action: 'EXIT' },
    ],
  );
  assert.equal(countTask(strategy(undefined)).retryRules, undefined);
  const at = 'DAG.Tasks.count.RetryStrategy';
  rejects(
    strategy({ EvaluateOnExit: [{ OnExitCode: '1x', Action: 'EXIT' }] }),
    `${at}.EvaluateOnExit[0].OnExitCode`,
    "must be digits with an optional trailing '*', or '*'",
    '"1x"',
  );
  rejects(
    strategy({ EvaluateOnExit: [{ OnExitCode: '1', Action: 'MAYBE' }] }),
    `${at}.EvaluateOnExit[0].Action`,
    'must be RETRY or EXIT',
    '"MAYBE"',
  );
  rejects(
    strategy({ EvaluateOnExit: [{ Action: 'EXIT' }] }),
    `${at}.EvaluateOnExit[0]`,
    'must give OnExitCode, OnErrorCode or both',
    '{"Action":"EXIT"}',
  );
  rejects(strategy({ Attempts: 3 }), `${at}.Attempts`, 'is not one of EvaluateOnExit, BackoffSeconds', '3');
  assert.equal(countTask(strategy({ BackoffSeconds: 5 })).retryBackoffSec, 5);
  rejects(
    strategy({ BackoffSeconds: 3601 }),
    `${at}.BackoffSeconds`,
    'must be an integer from 0 to 3600',
    '3601',
  );
});
