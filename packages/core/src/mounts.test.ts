import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMountRule, resolveHostMount } from './mounts.js';
import { validateJobDescription } from './validate/job.js';

test('mount rules name a source prefix, where it is on the host, and whether it may be written', () => {
  assert.deepEqual(parseMountRule('nas://fs-1.example.com:/exports=/mnt/nas:rw'), {
    source: 'nas://fs-1.example.com:/exports',
    hostPath: '/mnt/nas',
    writable: true,
  });
  assert.deepEqual(parseMountRule('file:///srv/ref/'), {
    source: 'file:///srv/ref',
    hostPath: '/srv/ref',
    writable: false,
  });
  assert.throws(() => parseMountRule('nas://fs:/x'), /needs =<host path>/);
  assert.throws(() => parseMountRule('oss://b/x=/y'), /must start with nas:\/\/ or file:\/\//);
  assert.throws(() => parseMountRule('file:///srv/../etc'), /absolute, without \.\./);
});

test('a source resolves under the most specific rule, never climbing out of it', () => {
  const rules = [
    parseMountRule('file:///srv'),
    parseMountRule('file:///srv/scratch:rw'),
    parseMountRule('nas://fs:/data=/mnt/nas'),
  ];
  assert.deepEqual(resolveHostMount('file:///srv/ref/genome', rules), {
    hostPath: '/srv/ref/genome',
    writable: false,
  });
  assert.deepEqual(resolveHostMount('file:///srv/scratch/run1/', rules), {
    hostPath: '/srv/scratch/run1',
    writable: true,
  });
  assert.deepEqual(resolveHostMount('nas://fs:/data/x', rules), { hostPath: '/mnt/nas/x', writable: false });
  assert.equal(resolveHostMount('file:///srvx', rules), undefined);
  assert.equal(resolveHostMount('file:///srv/../etc', rules), undefined);
  assert.equal(resolveHostMount('file:///etc', rules), undefined);
  assert.equal(resolveHostMount('nas://other:/data', rules), undefined);
});

function jobWithMounts(mounts: unknown) {
  return {
    Name: 'j',
    Priority: 1,
    Type: 'DAG',
    JobFailOnInstanceFail: true,
    DAG: {
      Tasks: {
        t: {
          InstanceCount: 1,
          Timeout: 60,
          AutoCluster: { ImageId: 'img-ubuntu' },
          Mounts: mounts,
          Parameters: {
            Command: { CommandLine: 'true', PackagePath: '' },
            StdoutRedirectPath: '',
            StderrRedirectPath: '',
          },
        },
      },
      Dependencies: {},
    },
  };
}

test('Mounts entries are read with their shape checked, naming the entry', () => {
  const spec = validateJobDescription(
    jobWithMounts({
      Entries: [{ Source: 'nas://fs:/data/', Destination: '/home/nas/', WriteSupport: true }],
      Locale: 'UTF-8',
    }),
  );
  assert.deepEqual(spec.tasks[0]!.mounts, [
    {
      source: 'nas://fs:/data/',
      destination: '/home/nas',
      writable: true,
      field: 'DAG.Tasks.t.Mounts.Entries[0]',
    },
  ]);
  const cases: Array<[unknown, RegExp]> = [
    [{ Entries: {} }, /Mounts\.Entries is not valid: must be a list/],
    [
      { Entries: [{ Source: 'smb://x/y', Destination: '/m' }] },
      /Entries\[0\]\.Source .*smb:\/\/ mounts are not supported/,
    ],
    [
      { Entries: [{ Source: 'http://x/y', Destination: '/m' }] },
      /Entries\[0\]\.Source .*must be an oss:\/\/, nas:\/\/ or file:\/\/ source/,
    ],
    [
      { Entries: [{ Source: 'oss://bkt/p/', Destination: 'rel' }] },
      /Entries\[0\]\.Destination .*must be an absolute path/,
    ],
    [
      { Entries: [{ Source: 'oss://bkt/p/', Destination: '/usr/x' }] },
      /must not be or lie under the system directory \/usr/,
    ],
    [
      { Entries: [{ Source: 'oss://bkt/p/', Destination: '/m', WriteSupport: true }] },
      /WriteSupport .*oss:\/\/ mounts are read-only/,
    ],
  ];
  for (const [mounts, message] of cases)
    assert.throws(() => validateJobDescription(jobWithMounts(mounts)), message);
});
