import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandIndices } from './slurm-commands.js';

test('array indices as squeue prints them', () => {
  assert.deepEqual(expandIndices('3'), [3]);
  assert.deepEqual(expandIndices('2-5%2'), [2, 3, 4, 5]);
  assert.deepEqual(expandIndices('[0-2,7,9-10%4]'), [0, 1, 2, 7, 9, 10]);
  assert.deepEqual(expandIndices('0-6:3'), [0, 3, 6]);
  assert.deepEqual(expandIndices('N/A'), []);
});
