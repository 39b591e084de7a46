import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WireJob } from '@shoal/core';
import { progressLine, ProgressWriter } from './progress.js';
import { renderTable } from './table.js';
import { barLine, formatBytes } from './bar.js';
import { paintState } from './colour.js';
import { renderDag } from './dag.js';
import { elapsed, formatDuration, relativeTime } from './time.js';

const metrics = (w: number, r: number, f: number, x: number) => ({
  WaitingCount: w,
  RunningCount: r,
  FinishedCount: f,
  FailedCount: x,
  StoppedCount: 0,
});

test('tables pad columns and trim line ends', () => {
  assert.equal(
    renderTable(
      ['#', 'Id', 'State'],
      [
        ['1', 'job-1', 'Running'],
        ['10', 'j', ''],
      ],
    ),
    '#   Id     State\n1   job-1  Running\n10  j\n',
  );
});

test('relative times and durations', () => {
  const now = Date.parse('2024-01-01T12:00:00Z');
  assert.equal(relativeTime('2024-01-01T11:59:50.000000Z', now), '10s ago');
  assert.equal(relativeTime('2024-01-01T11:00:00Z', now), '1h ago');
  assert.equal(relativeTime('2023-12-29T12:00:00Z', now), '3d ago');
  assert.equal(relativeTime('', now), '-');
  assert.equal(formatDuration(185_000), '3m05s');
  assert.equal(formatDuration(3_720_000), '1h02m');
  assert.equal(elapsed('2024-01-01T11:59:00Z', '', now), '1m00s');
  assert.equal(elapsed('2024-01-01T11:00:00Z', '2024-01-01T11:00:30Z', now), '30s');
});

test('progress lines: counts, and on a pipe one line per change', () => {
  const job = {
    Id: 'job-1',
    State: 'Running',
    TaskMetrics: metrics(1, 1, 1, 0),
    InstanceMetrics: metrics(2, 1, 3, 1),
  } as WireJob;
  assert.equal(
    progressLine(job, 12_000),
    'job-1 Running  tasks 1/3  instances 3/7 (1 running, 1 failed)  12s',
  );
  const out: string[] = [];
  const pipe = new ProgressWriter((t) => out.push(t), false);
  pipe.update(job, 1000);
  pipe.update(job, 2000);
  pipe.update({ ...job, State: 'Finished' }, 3000);
  pipe.finish();
  assert.equal(out.length, 2);
  const tty: string[] = [];
  const term = new ProgressWriter((t) => tty.push(t), true);
  term.update(job, 1000);
  term.finish();
  assert.deepEqual(tty, [
    '\r\x1b[2K[###########---------] job-1 Running  tasks 1/3  instances 3/7 (1 running, 1 failed)  1s',
    '\n',
  ]);
});

test('byte bars, DAG drawing and colours', () => {
  assert.equal(barLine('up', 50, 100, 10), 'up [#####-----]  50%  50 B/100 B');
  assert.equal(formatBytes(1536 * 1024), '1.5 MB');
  assert.equal(
    renderDag(
      { split: { InstanceCount: 1 }, count: { InstanceCount: 3 }, merge: { InstanceCount: 1 } },
      { split: ['count'], count: ['merge'] },
    ),
    '[split x1]\n   |  split -> count\n   v\n[count x3]\n   |  count -> merge\n   v\n[merge x1]\n',
  );
  assert.equal(renderDag({ a: { InstanceCount: 1 }, b: { InstanceCount: 2 } }), '[a x1]  [b x2]\n');
  assert.equal(paintState('Failed', true), '\x1b[31mFailed\x1b[0m');
  assert.equal(paintState('Failed', false), 'Failed');
  assert.equal(
    renderTable(['S', 'X'], [[paintState('Running', true), 'y']]),
    `S        X\n${paintState('Running', true)}  y\n`,
  );
});
