/**
 * Test support for the validator tests: the log-count job of seed 002 (split -> count x3 -> merge) as
 * a client would submit it, copies of it with one field changed, and an assertion on the error thrown.
 */
import assert from 'node:assert/strict';
import { isShoalError, type ErrorCode } from '../errors.js';
import { validateJobDescription } from './job.js';

export type Json = Record<string, unknown>;

function task(name: string, instanceCount: number, inputs: Json, outputs: Json): Json {
  return {
    InstanceCount: instanceCount,
    Timeout: 600,
    MaxRetryCount: 0,
    ClusterId: 'cls-local',
    Parameters: {
      Command: {
        CommandLine: `python ${name}.py`,
        PackagePath: 'oss://shoal-test/log-count/worker.tar.gz',
        EnvVars: {},
      },
      StdoutRedirectPath: 'oss://shoal-test/log-count/logs/',
      StderrRedirectPath: 'oss://shoal-test/log-count/logs/',
    },
    InputMapping: inputs,
    OutputMapping: outputs,
  };
}

/** A fresh copy each call, so tests may change it freely. */
export function baselineJob(): Json {
  return {
    Name: 'log-count',
    Description: 'split a log, count words in 3 parts, merge the counts',
    Priority: 1,
    Type: 'DAG',
    JobFailOnInstanceFail: true,
    AutoRelease: false,
    DAG: {
      Tasks: {
        split: task(
          'split',
          1,
          { 'oss://shoal-test/log-count/data/': '/home/input/' },
          {
            '/home/output/': 'oss://shoal-test/log-count/split/',
          },
        ),
        count: task(
          'count',
          3,
          { 'oss://shoal-test/log-count/split/': '/home/input/' },
          {
            '/home/output/': 'oss://shoal-test/log-count/count/',
          },
        ),
        merge: task(
          'merge',
          1,
          { 'oss://shoal-test/log-count/count/': '/home/input/' },
          {
            '/home/output/': 'oss://shoal-test/log-count/result/',
          },
        ),
      },
      Dependencies: { split: ['count'], count: ['merge'] },
    },
  };
}

/** The baseline with the value at `path` replaced (undefined deletes the key). */
export function jobWith(path: readonly string[], value: unknown, job: Json = baselineJob()): Json {
  let node: Json = job;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Json;
  }
  const last = path[path.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return job;
}

/** The baseline with field `key` of task `name` replaced (undefined deletes it). */
export function taskWith(name: string, key: string, value: unknown): Json {
  return jobWith(['DAG', 'Tasks', name, key], value);
}

export interface ExpectedError {
  readonly code: ErrorCode;
  readonly field: string;
  readonly message: string;
}

export function expectInvalid(raw: unknown, expected: ExpectedError): void {
  assert.throws(
    () => validateJobDescription(raw),
    (err: unknown) => {
      assert.ok(isShoalError(err), `expected a ShoalError, got ${String(err)}`);
      assert.deepEqual(
        { code: err.code, status: err.status, field: err.field, message: err.message },
        { ...expected, status: 400 },
      );
      return true;
    },
  );
}
