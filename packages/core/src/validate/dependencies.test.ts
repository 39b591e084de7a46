import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baselineJob, expectInvalid, jobWith, type Json } from './fixture.js';
import { validateJobDescription } from './job.js';

const withDeps = (deps: unknown, job: Json = baselineJob()) => jobWith(['DAG', 'Dependencies'], deps, job);

function rejects(job: Json, field: string, rule: string, shown: string): void {
  expectInvalid(job, {
    code: 'InvalidJobDescription',
    field,
    message: `JobDescription field ${field} is not valid: ${rule}, got ${shown}.`,
  });
}

test('dependencies become predecessors; tasks come out in topological order', () => {
  // Written merge-first: the order of the keys must not matter.
  const job = baselineJob();
  const tasks = (job.DAG as { Tasks: Json }).Tasks;
  jobWith(['DAG', 'Tasks'], { merge: tasks.merge, count: tasks.count, split: tasks.split }, job);
  const spec = validateJobDescription(job);
  assert.deepEqual(
    spec.tasks.map((t) => t.name),
    ['split', 'count', 'merge'],
  );
  assert.deepEqual(spec.predecessors, { merge: ['count'], count: ['split'], split: [] });
});

test('no dependencies: every task has an empty predecessor list, tasks in name order', () => {
  for (const deps of [undefined, null, {}]) {
    const spec = validateJobDescription(withDeps(deps));
    assert.deepEqual(
      spec.tasks.map((t) => t.name),
      ['count', 'merge', 'split'],
    );
    assert.deepEqual(spec.predecessors, { split: [], count: [], merge: [] });
  }
});

test('a single successor may be given as a string; duplicates and null lists are harmless', () => {
  const spec = validateJobDescription(withDeps({ split: 'count', count: ['merge', 'merge'], merge: null }));
  assert.deepEqual(spec.predecessors, { split: [], count: ['split'], merge: ['count'] });
});

test('fan-in: predecessors are listed in name order', () => {
  const spec = validateJobDescription(withDeps({ split: ['merge'], count: ['merge'] }));
  assert.deepEqual(spec.predecessors.merge, ['count', 'split']);
  assert.deepEqual(
    spec.tasks.map((t) => t.name),
    ['count', 'split', 'merge'],
  );
});

test('Dependencies must be an object of task lists', () => {
  rejects(withDeps(['split', 'count']), 'DAG.Dependencies', 'must be an object', '["split","count"]');
  rejects(withDeps({ split: 5 }), 'DAG.Dependencies.split', 'must be a list of task names', '5');
  rejects(withDeps({ split: ['count', 7] }), 'DAG.Dependencies.split[1]', 'must be a task name', '7');
});

test('a key must be a known task', () => {
  rejects(withDeps({ split: ['count'], x: ['merge'] }), 'DAG.Dependencies.x', 'unknown task', '"x"');
  rejects(withDeps({ 'no such': ['merge'] }), 'DAG.Dependencies["no such"]', 'unknown task', '"no such"');
});

test('a listed successor must be a known task', () => {
  rejects(
    withDeps({ split: ['counter', 'merge'] }),
    'DAG.Dependencies.split[0]',
    'unknown task',
    '"counter"',
  );
  rejects(withDeps({ split: 'counter' }), 'DAG.Dependencies.split', 'unknown task', '"counter"');
});

test('a task cannot run after itself', () => {
  rejects(
    withDeps({ count: ['merge', 'count'] }),
    'DAG.Dependencies.count[1]',
    'a task cannot run after itself',
    '"count"',
  );
});

test('a cycle is rejected and shown as a path', () => {
  const deps = { split: ['count'], count: ['merge'], merge: ['split'] };
  rejects(
    withDeps(deps),
    'DAG.Dependencies',
    'tasks must not depend on each other in a cycle: count -> merge -> split -> count',
    JSON.stringify(deps),
  );
  const two = { split: ['count'], count: ['split'] };
  rejects(
    withDeps(two),
    'DAG.Dependencies',
    'tasks must not depend on each other in a cycle: count -> split -> count',
    JSON.stringify(two),
  );
});

test('dependency errors come after task errors', () => {
  const job = withDeps({ nope: ['count'] });
  jobWith(['DAG', 'Tasks', 'merge', 'InstanceCount'], 0, job);
  rejects(job, 'DAG.Tasks.merge.InstanceCount', 'must be an integer from 1 to 100000000', '0');
});
