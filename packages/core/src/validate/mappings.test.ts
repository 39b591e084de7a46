import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskSpec } from '../job-spec.js';
import { expectInvalid, taskWith, jobWith, type Json } from './fixture.js';
import { validateJobDescription } from './job.js';
import { isWithin } from './paths.js';

function countTask(job: Json): TaskSpec {
  const task = validateJobDescription(job).tasks.find((t) => t.name === 'count');
  assert.ok(task);
  return task;
}

/** The count task with its three mappings replaced. */
function mapped(input: unknown, output: unknown = {}, log: unknown = {}): Json {
  const job = taskWith('count', 'InputMapping', input);
  jobWith(['DAG', 'Tasks', 'count', 'OutputMapping'], output, job);
  jobWith(['DAG', 'Tasks', 'count', 'LogMapping'], log, job);
  return job;
}

function rejects(job: Json, field: string, rule: string, shown: string): void {
  expectInvalid(job, {
    code: 'InvalidJobDescription',
    field,
    message: `JobDescription field ${field} is not valid: ${rule}, got ${shown}.`,
  });
}

const IN = 'DAG.Tasks.count.InputMapping';
const OUT = 'DAG.Tasks.count.OutputMapping';
const LOG = 'DAG.Tasks.count.LogMapping';

test('mappings become source/destination entries with normalised local paths', () => {
  const task = countTask(
    mapped(
      { 'oss://data-b/in/': '/home//input/', 'oss://data-b/ref.txt': 'ref/./ref.txt' },
      { './out/': 'oss://data-b/out', '/home/a/../results': 's3://data-b/results/' },
      { '/home/work/app.log': 'oss://data-b/applogs' },
    ),
  );
  assert.deepEqual(task.inputMappings, [
    { source: 'oss://data-b/in/', destination: '/home/input' },
    { source: 'oss://data-b/ref.txt', destination: 'ref/ref.txt' },
  ]);
  assert.deepEqual(task.outputMappings, [
    { source: 'out', destination: 'oss://data-b/out/' },
    { source: '/home/results', destination: 's3://data-b/results/' },
  ]);
  assert.deepEqual(task.logMappings, [
    { source: '/home/work/app.log', destination: 'oss://data-b/applogs/' },
  ]);
});

test('absent mappings are empty lists', () => {
  const task = countTask(mapped({}, {}, {}));
  assert.deepEqual([task.inputMappings, task.outputMappings, task.logMappings], [[], [], []]);
  const bare = taskWith('count', 'InputMapping', undefined);
  jobWith(['DAG', 'Tasks', 'count', 'OutputMapping'], null, bare);
  assert.deepEqual(countTask(bare).inputMappings, []);
});

test('a mapping must be an object', () => {
  rejects(mapped([]), IN, 'must be an object', '[]');
  rejects(mapped({}, 'oss://b/'), OUT, 'must be an object', '"oss://b/"');
});

test('the oss side must be a valid object URI', () => {
  rejects(
    mapped({ 'oss://b/x/': '/home/in' }),
    `${IN}["oss://b/x/"]`,
    `bucket name "b" must be 3-63 characters of a-z, 0-9, '.', '-'`,
    '"oss://b/x/"',
  );
  rejects(
    mapped({ '/data/': '/home/in' }),
    `${IN}["/data/"]`,
    'must start with oss:// or s3:// followed by a bucket name',
    '"/data/"',
  );
  rejects(
    mapped({}, { '/home/out': 'ftp://bkt/out/' }),
    `${OUT}["/home/out"]`,
    'must start with oss:// or s3:// followed by a bucket name',
    '"ftp://bkt/out/"',
  );
  rejects(
    mapped({}, {}, { '/home/app.log': 7 }),
    `${LOG}["/home/app.log"]`,
    'must be a string like oss://bucket/key',
    '7',
  );
});

test('the local side must be a non-empty path without NUL', () => {
  rejects(mapped({ 'oss://bkt/in/': '' }), `${IN}["oss://bkt/in/"]`, 'must be a non-empty local path', '""');
  rejects(mapped({ 'oss://bkt/in/': 3 }), `${IN}["oss://bkt/in/"]`, 'must be a local path string', '3');
  rejects(
    mapped({ 'oss://bkt/in/': '/home/in\0' }),
    `${IN}["oss://bkt/in/"]`,
    'must not contain NUL characters',
    '"/home/in\\u0000"',
  );
});

test('a relative local path must not leave the working directory', () => {
  rejects(
    mapped({}, { '../out': 'oss://bkt/out/' }),
    `${OUT}["../out"]`,
    'a relative path must stay inside the working directory',
    '"../out"',
  );
  rejects(
    mapped({ 'oss://bkt/in/': 'in/../../x' }),
    `${IN}["oss://bkt/in/"]`,
    'a relative path must stay inside the working directory',
    '"in/../../x"',
  );
});

test('an absolute local path must not be / or a system directory', () => {
  rejects(
    mapped({ 'oss://bkt/in/': '/' }),
    `${IN}["oss://bkt/in/"]`,
    'must not be the root directory',
    '"/"',
  );
  rejects(mapped({}, { '//': 'oss://bkt/o/' }), `${OUT}["//"]`, 'must not be the root directory', '"//"');
  for (const [local, dir] of [
    ['/etc', '/etc'],
    ['/usr/local/bin/', '/usr'],
    ['/home/../proc/1', '/proc'],
    ['/lib64', '/lib64'],
  ] as const) {
    rejects(
      mapped({ 'oss://bkt/in/': local }),
      `${IN}["oss://bkt/in/"]`,
      `must not be or lie under the system directory ${dir}`,
      JSON.stringify(local),
    );
  }
  rejects(
    mapped({}, {}, { '/dev/stdout': 'oss://bkt/logs/' }),
    `${LOG}["/dev/stdout"]`,
    'must not be or lie under the system directory /dev',
    '"/dev/stdout"',
  );
  assert.equal(
    countTask(mapped({ 'oss://bkt/in/': '/library/x' })).inputMappings[0]?.destination,
    '/library/x',
  );
});

test('a log mapping names a file', () => {
  rejects(
    mapped({}, {}, { './': 'oss://bkt/logs/' }),
    `${LOG}["./"]`,
    'must name a log file, not the working directory',
    '"./"',
  );
});

test('two sources mapped to the same local path are rejected', () => {
  rejects(
    mapped({ 'oss://bkt/a/': '/home/in', 'oss://bkt/b/': '/home/in/' }),
    `${IN}["oss://bkt/b/"]`,
    `another source already maps to /home/in (${IN}["oss://bkt/a/"])`,
    '"/home/in/"',
  );
});

test('the same local directory for input and output is rejected, naming both fields', () => {
  rejects(
    mapped({ 'oss://bkt/in/': '/home/work/' }, { '/home/work': 'oss://bkt/out/' }),
    `${OUT}["/home/work"]`,
    `${IN}["oss://bkt/in/"] already uses /home/work as its input directory`,
    '"/home/work"',
  );
  rejects(
    mapped({ 'oss://bkt/in/': 'work' }, { './work/': 'oss://bkt/out/' }),
    `${OUT}["./work/"]`,
    `${IN}["oss://bkt/in/"] already uses work as its input directory`,
    '"./work/"',
  );
});

test('an output directory inside an input directory, or around one, is rejected', () => {
  rejects(
    mapped({ 'oss://bkt/in/': '/home/data' }, { '/home/data/out': 'oss://bkt/out/' }),
    `${OUT}["/home/data/out"]`,
    `lies inside input directory /home/data (${IN}["oss://bkt/in/"])`,
    '"/home/data/out"',
  );
  rejects(
    mapped({ 'oss://bkt/in/': '/home/data/in' }, { '/home/data': 'oss://bkt/out/' }),
    `${OUT}["/home/data"]`,
    `contains input directory /home/data/in (${IN}["oss://bkt/in/"])`,
    '"/home/data"',
  );
  rejects(
    mapped({ 'oss://bkt/in/': 'in' }, { '.': 'oss://bkt/out/' }),
    `${OUT}["."]`,
    `contains input directory in (${IN}["oss://bkt/in/"])`,
    '"."',
  );
  // Siblings, and a relative path beside an absolute one, do not overlap.
  const task = countTask(
    mapped(
      { 'oss://bkt/in/': '/home/data', 'oss://bkt/rel/': 'data' },
      { '/home/data2': 'oss://bkt/out/', out: 'oss://bkt/o2/' },
    ),
  );
  assert.equal(task.outputMappings.length, 2);
});

test('isWithin compares path segments, and relative paths only with relative ones', () => {
  assert.equal(isWithin('/home/a', '/home/a/b'), true);
  assert.equal(isWithin('/home/a', '/home/ab'), false);
  assert.equal(isWithin('.', 'x/y'), true);
  assert.equal(isWithin('.', '/x'), false);
  assert.equal(isWithin('x', '/x/y'), false);
  assert.equal(isWithin('/', '/x'), true);
});
