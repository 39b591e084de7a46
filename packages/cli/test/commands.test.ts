/**
 * The bcs command set beyond submit/job/log (see cli.test.ts for those), each as a subprocess against
 * a real server: login/logout/config/info, j filters, cj/uj, it/rt/d/e, clusters, images,
 * oss, admin, completion, sub --show_dag, log -d.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WireCluster } from '@shoal/core';
import { ShoalApiError, ShoalClient } from '@shoal/sdk';
import { BIN, jobId, startServer, type Harness } from './harness.js';

let h: Harness;
let noWhoami: string | undefined;

before(async () => {
  h = await startServer('shoal-cli-commands-');
  const client = new ShoalClient({
    endpoint: h.endpoint,
    accessKeyId: h.creds.AccessKeyId,
    accessKeySecret: h.creds.AccessKeySecret,
  });
  try {
    await client.whoami();
  } catch (err) {
    if (!(err instanceof ShoalApiError && err.code === 'InvalidAction.NotFound')) throw err;
    noWhoami = 'the server has no /whoami and admin API yet (404 InvalidAction.NotFound)';
  }
});

after(async () => {
  assert.equal(await h.close(), 0, 'server did not shut down cleanly');
});

test('login saves config.json 0600; info, config and logout', async () => {
  const nowhere = { SHOAL_DATA_DIR: join(h.root, 'nowhere') };
  const bad = await h.run(['login', h.endpoint, h.creds.AccessKeyId, 'wrong-secret'], { env: nowhere });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^Error: \S+: /);
  const login = await h.run(['login', h.endpoint, h.creds.AccessKeyId, h.creds.AccessKeySecret], {
    env: nowhere,
  });
  assert.equal(login.code, 0, login.stderr);
  assert.match(login.stdout, new RegExp(`^Logged in to ${h.endpoint}`));
  const file = join(h.root, 'config', 'config.json');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal(JSON.parse(await readFile(file, 'utf8')).AccessKeyId, h.creds.AccessKeyId);

  // With the login saved, no data dir is needed.
  const info = await h.run(['info'], { env: nowhere });
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, new RegExp(`^Endpoint:\\s+${h.endpoint}$`, 'm'));
  assert.match(info.stdout, /^Server:\s+Shoal, BatchCompute API 2015-11-11$/m);
  assert.match(info.stdout, /^Sandbox:\s+bubblewrap, (instance-type limits enforced|NO limits \(.+\))$/m);
  if (!noWhoami) assert.match(info.stdout, /^User:\s+admin \(owner 1, admin\)$/m);

  const set = await h.run(['set', '-o', 'oss://mine/work/'], { env: nowhere });
  assert.equal(set.code, 0, set.stderr);
  const me = await h.run(['me'], { env: nowhere });
  assert.match(me.stdout, /^OssPath:\s+oss:\/\/mine\/work\/$/m);
  assert.doesNotMatch(me.stdout, new RegExp(h.creds.AccessKeySecret));
  assert.equal((await h.run(['oss', 'pwd'], { env: nowhere })).stdout, 'oss://mine/work/\n');

  assert.equal((await h.run(['logout'], { env: nowhere })).stdout, 'Logged out.\n');
  const none = await h.run(['info'], { env: nowhere });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^Error: no Shoal connection/);
  assert.equal(
    (await h.run(['config', '--json'], { env: nowhere })).stdout.includes('"OssPath": "oss://mine/work/"'),
    true,
  );
});

test('j filters by id and name substring; cj submits JSON; uj changes the priority', async () => {
  const desc = JSON.parse((await h.run(['sub', 'sleep 30', 'cj-sleeper', '--show_json'])).stdout);
  await writeFile(join(h.root, 'job.json'), JSON.stringify(desc));
  const cj = await h.run(['cj', '-f', 'job.json']);
  assert.equal(cj.code, 0, cj.stderr);
  const id = jobId(cj.stdout);
  const inline = await h.run(['create_job', JSON.stringify({ ...desc, Name: 'cj-inline' })]);
  const id2 = jobId(inline.stdout);
  assert.equal((await h.run(['cj', '{not json'])).code, 1);

  const byName = await h.run(['j', '-n', 'sleeper']);
  assert.equal(byName.code, 0, byName.stderr);
  assert.match(byName.stdout, new RegExp(`^1\\s+${id}\\s+cj-sleeper`, 'm'));
  assert.doesNotMatch(byName.stdout, /cj-inline/);
  const byId = await h.run(['j', '-i', id2.slice(-6).toLowerCase(), '--json']);
  assert.deepEqual(
    (JSON.parse(byId.stdout) as { Id: string }[]).map((j) => j.Id),
    [id2],
  );

  const uj = await h.run(['uj', id, '-p', '7']);
  assert.equal(uj.code, 0, uj.stderr);
  assert.equal(uj.stdout, `Updated ${id}: priority 7\n`);
  const shown = JSON.parse((await h.run(['j', id, '--json'])).stdout) as { Job: { Priority: number } };
  assert.equal(shown.Job.Priority, 7);
  assert.equal((await h.run(['sj', `${id},${id2}`])).code, 0);
});

test('it, rt, d and e list what the server offers and what happened', async () => {
  const it = await h.run(['it']);
  assert.equal(it.code, 0, it.stderr);
  assert.match(
    it.stdout,
    /^#\s+Name\s+CPU\s+Memory\s+Processes\n1\s+shoal\.local\s+[\d.]+\s+\d+ MiB\s+1024\n/,
  );
  assert.equal((JSON.parse((await h.run(['t', '--json'])).stdout) as unknown[]).length, 1);
  assert.match((await h.run(['rt'])).stdout, /^1\s+OnDemand$/m);
  assert.match((await h.run(['d'])).stdout, /^system\s+local$/m);
  const events = await h.run(['e', '--json']);
  assert.equal(events.code, 0, events.stderr);
  assert.ok(Array.isArray(JSON.parse(events.stdout)));
  assert.equal((await h.run(['event'])).code, 0);
});

test('c lists clusters and shows one and its workers; cc, uc and dc create, resize and delete one', async () => {
  const listed = await h.run(['c']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^1\s+cls-local\s+local\s+Active\s+local\s+group: 1\/1 shoal\.local/m);
  const workers = await h.run(['c', 'cls-local', 'group']);
  assert.equal(workers.code, 0, workers.stderr);
  assert.match(workers.stdout, /^1\s+i-[0-9a-f]+\s+Running\s+/m);

  const shown = await h.run(['cc', 'farm', '-n', '3', '--show_json']);
  assert.deepEqual(JSON.parse(shown.stdout).Groups, {
    group: { DesiredVMCount: 3, InstanceType: 'shoal.local', ResourceType: 'OnDemand' },
  });
  const created = await h.run(['cc', 'farm', '-n', '3', '-d', 'render farm', '-e', 'A:1']);
  assert.equal(created.code, 0, created.stderr);
  const id = /Cluster created: (cls-[a-z0-9]+)/.exec(created.stdout)?.[1];
  assert.ok(id, created.stdout);
  const one = await h.run(['c', id]);
  assert.match(one.stdout, /^Name:\s+farm$/m);
  assert.match(one.stdout, /^group\s+shoal\.local\s+OnDemand\s+3\s+0$/m);
  const resized = await h.run(['uc', id, '-n', '5']);
  assert.equal(resized.code, 0, resized.stderr);
  const json = JSON.parse((await h.run(['c', id, '--json'])).stdout) as WireCluster;
  assert.equal(json.Groups.group?.DesiredVMCount, 5);
  assert.deepEqual(json.EnvVars, { A: '1' });

  const bad = await h.run(['cc', 'x', '-n', 'many']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /-n, --nodes <n>.*'many' is invalid/);
  const badType = await h.run(['cc', 'x', '-t', 'bcs.huge']);
  assert.equal(badType.code, 1);
  assert.match(badType.stderr, /InstanceType .*bcs\.huge/);
  const noChange = await h.run(['uc', id]);
  assert.equal(noChange.code, 2);
  assert.match(noChange.stderr, /nothing to change/);

  const deleted = await h.run(['dc', id, '-y']);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(deleted.stdout, `Deleted ${id}\n`);
  const again = await h.run(['dc', id, '-y']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /not found/i);
  const rci = await h.run(['rci', 'cls-local', 'group', 'i-00000000000000000000', '-y']);
  assert.equal(rci.code, 1);
  assert.match(rci.stderr, /not found/i);
});

test('i lists the system images and yours; ci registers one; di deletes it', async () => {
  await writeFile(join(h.root, 'rootfs.tar.gz'), 'not checked until a task runs in it');
  assert.equal(
    (await h.run(['oss', 'up', join(h.root, 'rootfs.tar.gz'), 'oss://imgs/rootfs.tar.gz'])).code,
    0,
  );
  const ci = await h.run(['ci', 'my-rootfs', 'oss://imgs/rootfs.tar.gz', '-d', 'for tests']);
  assert.equal(ci.code, 0, ci.stderr);
  const id = /^Image created: (img-[a-z0-9]{20})$/.exec(ci.stdout.trim())?.[1];
  assert.ok(id, ci.stdout);
  const listed = await h.run(['i']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^1\s+img-ubuntu\s+.+System\s+the worker's OS/m);
  assert.match(
    listed.stdout,
    new RegExp(`^\\d+\\s+${id}\\s+my-rootfs\\s+RootFs\\s+oss://imgs/rootfs\\.tar\\.gz`, 'm'),
  );
  const one = await h.run(['i', id!]);
  assert.match(one.stdout, /^Description:\s+for tests$/m);
  const bad = await h.run(['ci', 'x', 'm-123']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /EcsImageId .*must be an oss:\/\/ or s3:\/\/ object/);
  assert.equal((await h.run(['di', id!, '-y'])).stdout, `Deleted ${id}\n`);
  const gone = await h.run(['di', id!]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /InvalidResource\.NotFound/);
});

test('oss up, ls, cat, cp, down, del', async () => {
  const dir = join(h.root, 'upload');
  await mkdir(join(dir, 'sub'), { recursive: true });
  await writeFile(join(dir, 'a.txt'), 'alpha\n');
  await writeFile(join(dir, 'sub', 'b.txt'), 'beta\n');
  const up = await h.run(['oss', 'up', 'upload', 'oss://shoal/ossdemo/']);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, /-> oss:\/\/shoal\/ossdemo\/sub\/b\.txt \(5 B\)/);
  const ls = await h.run(['oss', 'ls', 'oss://shoal/ossdemo/']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^Key\s+Size\s+Modified$/m);
  assert.match(ls.stdout, /^ossdemo\/sub\/\s+-/m);
  assert.match(ls.stdout, /^ossdemo\/a\.txt\s+6 B\s+\d+s ago$/m);
  const all = JSON.parse((await h.run(['o', 'ls', '-r', 'oss://shoal/ossdemo/', '--json'])).stdout) as {
    Items: { Key: string }[];
  };
  assert.deepEqual(all.Items.map((i) => i.Key).sort(), ['ossdemo/a.txt', 'ossdemo/sub/b.txt']);
  assert.equal(
    (await h.run(['oss', 'cat', 'oss://shoal/ossdemo/a.txt', 'oss://shoal/ossdemo/sub/b.txt'])).stdout,
    'alpha\nbeta\n',
  );
  assert.equal(
    (await h.run(['oss', 'cp', 'oss://shoal/ossdemo/a.txt', 'oss://shoal/ossdemo/c.txt'])).code,
    0,
  );
  const down = await h.run(['oss', 'down', 'oss://shoal/ossdemo/', 'back']);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(await readFile(join(h.root, 'back', 'sub', 'b.txt'), 'utf8'), 'beta\n');
  assert.equal(await readFile(join(h.root, 'back', 'c.txt'), 'utf8'), 'alpha\n');
  const cpDown = await h.run(['oss', 'cp', 'oss://shoal/ossdemo/c.txt', 'copy.txt']);
  assert.equal(cpDown.code, 0, cpDown.stderr);
  assert.equal(await readFile(join(h.root, 'copy.txt'), 'utf8'), 'alpha\n');
  const del = await h.run(['oss', 'del', 'oss://shoal/ossdemo/', '-y']);
  assert.equal(del.code, 0, del.stderr);
  assert.equal(del.stdout.split('\n').filter(Boolean).length, 3);
  const gone = await h.run(['oss', 'cat', 'oss://shoal/ossdemo/a.txt']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^Error: InvalidResource\.NotFound: /);
});

test('sub --show_dag draws the graph; log -d saves the logs to files', async () => {
  const cfg = join(h.root, 'dag.cfg');
  await writeFile(cfg, '[DEFAULT]\ndeps=a->b\n[a]\ncmd=echo from-a\n[b]\ncmd=echo from-b\nnodes=2\n');
  const dag = await h.run(['sub', '--file', 'dag.cfg', '--show_dag']);
  assert.equal(dag.code, 0, dag.stderr);
  assert.equal(dag.stdout, '[a x1]\n   |  a -> b\n   v\n[b x2]\n');
  const sub = await h.run(['sub', '--file', 'dag.cfg', '--wait']);
  assert.equal(sub.code, 0, sub.stdout + sub.stderr);
  const id = jobId(sub.stdout);
  const saved = await h.run(['log', id, '-d', 'logs', '-o']);
  assert.equal(saved.code, 0, saved.stderr);
  assert.equal(await readFile(join(h.root, 'logs', `stdout.${id}.b.1`), 'utf8'), 'from-b\n');
  assert.match(saved.stdout, /^Saved .*stdout\.job-\S+\.a\.0$/m);
});

test('log -f streams an instance while it runs and ends with its attempt', async () => {
  const sub = await h.run(['sub', "/bin/sh -c 'echo one; sleep 1; echo two'", 'follow']);
  assert.equal(sub.code, 0, sub.stderr);
  const id = jobId(sub.stdout);
  const started = Date.now();
  const followed = await h.run(['log', id, 'task', '0', '-f', '-o']);
  assert.equal(followed.code, 0, followed.stderr);
  assert.match(followed.stdout, /one\ntwo\n/);
  assert.ok(Date.now() - started >= 500, 'it waited for the attempt rather than printing what was there');
});

test('admin users and keys', { skip: noWhoami }, async (t) => {
  if (noWhoami) return t.skip(noWhoami);
  const created = await h.run(['admin', 'user', 'create', 'alice']);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /^Created user alice \(owner \d+\)$/m);
  const users = JSON.parse((await h.run(['admin', 'user', 'list', '--json'])).stdout) as { Name: string }[];
  assert.deepEqual(users.map((u) => u.Name).sort(), ['admin', 'alice']);
  assert.match((await h.run(['admin', 'user', 'list'])).stdout, /^Name\s+OwnerId\s+Keys\s+Created$/m);
  const key = JSON.parse((await h.run(['admin', 'key', 'create', 'alice', '--json'])).stdout) as {
    AccessKeyId: string;
    AccessKeySecret: string;
  };
  assert.ok(key.AccessKeyId && key.AccessKeySecret);
  const asAlice = { SHOAL_ACCESS_KEY_ID: key.AccessKeyId, SHOAL_ACCESS_KEY_SECRET: key.AccessKeySecret };
  assert.match((await h.run(['info'], { env: asAlice })).stdout, /^User:\s+alice \(owner \d+\)$/m);
  const forbidden = await h.run(['admin', 'user', 'list'], { env: asAlice });
  assert.equal(forbidden.code, 1);
  assert.match(forbidden.stderr, /^Error: Forbidden\.AdminOnly: /);
  const keys = await h.run(['admin', 'key', 'list', 'alice']);
  assert.match(keys.stdout, new RegExp(`^${key.AccessKeyId}\\s+Active`, 'm'));
  assert.doesNotMatch(keys.stdout, new RegExp(key.AccessKeySecret));
  assert.equal(
    (await h.run(['admin', 'key', 'disable', key.AccessKeyId])).stdout,
    `Disabled ${key.AccessKeyId}\n`,
  );
  assert.equal((await h.run(['info'], { env: asAlice })).code, 1);
  assert.equal((await h.run(['admin', 'key', 'enable', key.AccessKeyId])).code, 0);
  assert.equal((await h.run(['info'], { env: asAlice })).code, 0);
  assert.equal((await h.run(['admin', 'key', 'delete', key.AccessKeyId])).code, 0);
  assert.equal((await h.run(['admin', 'user', 'delete', 'alice'])).stdout, 'Deleted user alice\n');
  assert.equal((await h.run(['admin', 'user', 'delete', 'admin'])).code, 1);
});

test('completion scripts for bash and zsh name the commands and aliases', async () => {
  const bash = await h.run(['completion', 'bash']);
  assert.equal(bash.code, 0, bash.stderr);
  assert.match(bash.stdout, /complete -o default -F _shoal_complete shoal bcs/);
  for (const word of ['sub', 'cj', 'uj', 'oss', 'admin', 'dci'])
    assert.ok(bash.stdout.includes(` ${word} `), word);
  assert.match(bash.stdout, /"oss"\) opts="pwd ls list cat/);
  const zsh = await h.run(['completion', 'zsh']);
  assert.match(zsh.stdout, /^#compdef shoal bcs/);
  assert.equal((await h.run(['completion', 'fish'])).code, 2);
});

test('shoal server takes its master key from SHOAL_MASTER_KEY and then writes none to the data dir', async () => {
  const dataDir = join(h.root, 'keyed-data');
  const proc = spawn(
    process.execPath,
    [BIN, 'server', '--port', '0', '--data-dir', dataDir, '--slots', '0'],
    {
      env: { ...process.env, SHOAL_MASTER_KEY: randomBytes(32).toString('hex') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/Shoal listening on/.test(out)) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
    });
    assert.equal(existsSync(join(dataDir, 'credentials.json')), true);
    assert.equal(existsSync(join(dataDir, 'master.key')), false);
  } finally {
    proc.kill('SIGTERM');
    await new Promise((resolve) => proc.once('exit', resolve));
  }
});
