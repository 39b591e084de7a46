import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compactIndices, expandIndices } from './slurm-commands.js';

test('array indices in Slurm’s compact form, and back from squeue', () => {
  assert.equal(compactIndices([4, 0, 1, 2, 7, 9, 10, 2]), '0-2,4,7,9-10');
  assert.equal(compactIndices([5]), '5');
  assert.deepEqual(expandIndices('3'), [3]);
  assert.deepEqual(expandIndices('2-5%2'), [2, 3, 4, 5]);
  assert.deepEqual(expandIndices('[0-2,7,9-10%4]'), [0, 1, 2, 7, 9, 10]);
  assert.deepEqual(expandIndices('0-6:3'), [0, 3, 6]);
  assert.deepEqual(expandIndices('N/A'), []);
});
