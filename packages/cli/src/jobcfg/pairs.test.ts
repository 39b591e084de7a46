import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseCluster,
  parseDeps,
  parseDocker,
  parseEnv,
  parseMountList,
  parseMounts,
  splitMountPair,
} from './pairs.js';

test('mount pairs split at the last ":" that starts a local path', () => {
  assert.deepEqual(splitMountPair('oss://b/k:/home/input'), ['oss://b/k', '/home/input']);
  assert.deepEqual(splitMountPair('oss://b/x/:/home/in'), ['oss://b/x/', '/home/in']);
  assert.deepEqual(splitMountPair('oss://your-bucket/log-count/:/home/output'), [
    'oss://your-bucket/log-count/',
    '/home/output',
  ]);
  assert.deepEqual(splitMountPair('oss://b/a:b/c:./rel'), ['oss://b/a:b/c', './rel']);
  assert.deepEqual(splitMountPair('oss://b/x:data'), ['oss://b/x', 'data']);
  assert.deepEqual(splitMountPair('s3://b/k/:/mnt/k'), ['s3://b/k/', '/mnt/k']);
  assert.throws(() => splitMountPair('oss://b/x', 'read_mount'), /read_mount: expected/);
  assert.throws(() => splitMountPair('oss://b/x:'), /expected/);
  assert.deepEqual(parseMountList(' oss://b/a/:/in/a , oss://b/c:/in/c ,'), [
    ['oss://b/a/', '/in/a'],
    ['oss://b/c', '/in/c'],
  ]);
});

test('mounts: sources with colons of their own, an optional write flag, read-only by default', () => {
  assert.deepEqual(parseMounts('nas://fs-1.example.com:/share/:/mnt/share:true, oss://b/ref/:/ref'), [
    { Source: 'nas://fs-1.example.com:/share/', Destination: '/mnt/share', WriteSupport: true },
    { Source: 'oss://b/ref/', Destination: '/ref', WriteSupport: false },
  ]);
  assert.deepEqual(parseMounts('file:///srv/ref/:/ref:FALSE'), [
    { Source: 'file:///srv/ref/', Destination: '/ref', WriteSupport: false },
  ]);
  assert.throws(() => parseMounts('oss://b/ref/:true'), /mount: expected/);
});

test('docker: an image, and the folder of saved images after @', () => {
  assert.deepEqual(parseDocker('localhost:5000/myubuntu@oss://b/dockers/'), {
    BATCH_COMPUTE_DOCKER_IMAGE: 'localhost:5000/myubuntu',
    BATCH_COMPUTE_DOCKER_REGISTRY_OSS_PATH: 'oss://b/dockers/',
  });
  assert.deepEqual(parseDocker('ubuntu@sha256:' + 'a'.repeat(64)), {
    BATCH_COMPUTE_DOCKER_IMAGE: 'ubuntu@sha256:' + 'a'.repeat(64),
  });
  assert.throws(() => parseDocker('@oss://b/d/'), /docker: expected/);
});

test('env items split at their first ":"', () => {
  assert.deepEqual(parseEnv('A:1, B:x:y ,C'), { A: '1', B: 'x:y', C: '' });
  assert.deepEqual(parseEnv(''), {});
  assert.throws(() => parseEnv(':v'), /missing variable name/);
});

test('deps: rules, fan-out and chains', () => {
  assert.deepEqual(parseDeps('split->count;count->merge'), { split: ['count'], count: ['merge'] });
  assert.deepEqual(parseDeps('a->b,c;d->e'), { a: ['b', 'c'], d: ['e'] });
  assert.deepEqual(parseDeps('a->b->c; a->b'), { a: ['b'], b: ['c'] });
  assert.deepEqual(parseDeps('a,b->c'), { a: ['c'], b: ['c'] });
  assert.throws(() => parseDeps('a->'), /deps: expected/);
  assert.throws(() => parseDeps('a'), /deps: expected/);
});

test('cluster choices', () => {
  assert.deepEqual(parseCluster('cls-123'), { clusterId: 'cls-123' });
  assert.deepEqual(parseCluster('img=img-ubuntu:type=shoal.large'), {
    image: 'img-ubuntu',
    type: 'shoal.large',
  });
  assert.deepEqual(parseCluster('type=t'), { type: 't' });
  assert.throws(() => parseCluster('size=3'), /cluster: expected/);
});
