import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCache, resolveJobRef, resolveTaskRef, saveCache } from './cache.js';
import { openSession, resolveConnection } from './connection.js';
import type { CliContext } from './context.js';

function context(cwd: string, env: Record<string, string> = {}): CliContext {
  const sink = { write: () => true };
  return {
    stdout: sink,
    stderr: sink,
    env,
    cwd,
    homeDir: join(cwd, 'home'),
    now: () => 0,
    untilSignal: () => new Promise(() => undefined),
  };
}

test('connection: flags > environment > credentials.json, field by field', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-conn-test-'));
  try {
    await mkdir(join(dir, '.shoal'));
    await writeFile(
      join(dir, '.shoal', 'credentials.json'),
      JSON.stringify({ AccessKeyId: 'file-ak', AccessKeySecret: 'file-sk', Endpoint: 'http://127.0.0.1:1' }),
    );
    const fromFile = await resolveConnection({}, context(dir));
    assert.deepEqual(fromFile, {
      endpoint: 'http://127.0.0.1:1',
      accessKeyId: 'file-ak',
      accessKeySecret: 'file-sk',
      dataDir: join(dir, '.shoal'),
    });

    const env = { SHOAL_ENDPOINT: 'http://env:2', SHOAL_ACCESS_KEY_ID: 'env-ak' };
    const mixed = await resolveConnection({ accessKeyId: 'flag-ak' }, context(dir, env));
    assert.equal(mixed.endpoint, 'http://env:2');
    assert.equal(mixed.accessKeyId, 'flag-ak');
    assert.equal(mixed.accessKeySecret, 'file-sk');

    const full = { SHOAL_ENDPOINT: 'http://env:2', SHOAL_ACCESS_KEY_ID: 'a', SHOAL_ACCESS_KEY_SECRET: 'b' };
    const envOnly = await openSession({}, context(join(dir, 'elsewhere'), full));
    assert.equal(envOnly.connection.dataDir, undefined);
    assert.equal(envOnly.cacheFile, join(dir, 'elsewhere', 'home', '.shoal', 'cache.json'));

    await assert.rejects(
      resolveConnection({}, context(dir, { SHOAL_DATA_DIR: 'missing' })),
      /no Shoal connection.*missing[/\\]credentials\.json/,
    );
    await mkdir(join(dir, 'bad'));
    await writeFile(join(dir, 'bad', 'credentials.json'), 'not json');
    await assert.rejects(resolveConnection({ dataDir: 'bad' }, context(dir)), /is not valid JSON/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('result cache: row numbers resolve to the ids and task names last listed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-cache-test-'));
  try {
    const file = join(dir, 'sub', 'cache.json');
    assert.deepEqual(await loadCache(file), { jobs: [] });
    await saveCache(file, {
      jobs: ['job-a', 'job-b'],
      tasks: { jobId: 'job-b', names: ['split', 'count', '7'] },
    });
    const cache = await loadCache(file);
    assert.equal(resolveJobRef('2', cache), 'job-b');
    assert.equal(resolveJobRef('job-x', cache), 'job-x');
    assert.throws(() => resolveJobRef('3', cache), /no job in row 3/);
    const never = async (): Promise<string[]> => assert.fail('should use the cache');
    assert.equal(await resolveTaskRef('job-b', '2', cache, never), 'count');
    assert.equal(await resolveTaskRef('job-b', '7', cache, never), '7');
    assert.equal(await resolveTaskRef('job-b', 'merge', cache, never), 'merge');
    assert.equal(await resolveTaskRef('job-a', '1', cache, async () => ['only']), 'only');
    await assert.rejects(
      resolveTaskRef('job-a', '2', cache, async () => ['only']),
      /no task in row 2/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
