import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DagCycleError, findCycle, formatCycle, topologicalOrder } from './dag.js';

test('chain', () => {
  const preds = { c: ['b'], b: ['a'], a: [] };
  assert.deepEqual(topologicalOrder(['c', 'b', 'a'], preds), ['a', 'b', 'c']);
  assert.equal(findCycle(['c', 'b', 'a'], preds), undefined);
});

test('diamond: ties broken by name, whatever the input order', () => {
  const preds = { top: [], right: ['top'], left: ['top'], bottom: ['right', 'left'] };
  for (const names of [
    ['top', 'left', 'right', 'bottom'],
    ['bottom', 'right', 'left', 'top'],
  ]) {
    assert.deepEqual(topologicalOrder(names, preds), ['top', 'left', 'right', 'bottom']);
  }
});

test('disconnected parts interleave by name as they become ready', () => {
  const preds = { b2: ['b1'], a2: ['a1'], c: [] };
  assert.deepEqual(topologicalOrder(['c', 'b2', 'b1', 'a2', 'a1'], preds), ['a1', 'a2', 'b1', 'b2', 'c']);
});

test('missing entries, duplicate names and duplicate predecessors are tolerated', () => {
  assert.deepEqual(topologicalOrder(['b', 'a', 'b'], { b: ['a', 'a'] }), ['a', 'b']);
});

test('names are ordered by code unit, not locale', () => {
  assert.deepEqual(topologicalOrder(['b', 'B', 'a', '_'], {}), ['B', '_', 'a', 'b']);
});

test('a cycle throws DagCycleError with the cycle as a path', () => {
  const preds = { a: ['c'], b: ['a'], c: ['b'], d: ['a'] };
  assert.throws(
    () => topologicalOrder(['a', 'b', 'c', 'd'], preds),
    (err: unknown) => {
      assert.ok(err instanceof DagCycleError);
      assert.deepEqual(err.cycle, ['a', 'b', 'c', 'a']);
      assert.equal(err.message, 'task dependencies form a cycle: a -> b -> c -> a');
      return true;
    },
  );
});

test('findCycle returns one cycle in run order, starting from the smallest reachable name', () => {
  // x -> y -> z -> y: the cycle does not include x.
  assert.deepEqual(findCycle(['x', 'y', 'z'], { y: ['x', 'z'], z: ['y'] }), ['y', 'z', 'y']);
  assert.deepEqual(findCycle(['solo'], { solo: ['solo'] }), ['solo', 'solo']);
  assert.equal(formatCycle(['a', 'b', 'a']), 'a -> b -> a');
});

test('long chains do not overflow the stack', () => {
  const n = 20000;
  const names = Array.from({ length: n }, (_, i) => `t${String(i).padStart(5, '0')}`);
  const preds = Object.fromEntries(names.map((name, i) => [name, i === 0 ? [] : [names[i - 1]!]]));
  assert.deepEqual(topologicalOrder([...names].reverse(), preds), names);
  assert.equal(findCycle(names, preds), undefined);
  preds[names[0]!] = [names[n - 1]!];
  assert.equal(findCycle(names, preds)?.length, n + 1);
});

test('a predecessor outside the names is a caller bug', () => {
  assert.throws(() => topologicalOrder(['a'], { a: ['ghost'] }), /task "a" depends on unknown task "ghost"/);
});
