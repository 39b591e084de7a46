/**
 * The CLI as a Unix tool, each as a subprocess against a real server: a closed pipe ends it quietly,
 * --json where it prints data, deletions confirmed on a terminal only, row numbers used only while the
 * listing holds, the newest events first, and errors that say what to do next.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, jobId, startServer, type Harness, type Result } from './harness.js';

let h: Harness;

before(async () => {
  h = await startServer('shoal-cli-unix-');
});

after(async () => {
  assert.equal(await h.close(), 0, 'server did not shut down cleanly');
});

async function finishedJob(cmd: string, name: string): Promise<string> {
  const sub = await h.run(['sub', cmd, name, '--wait']);
  assert.equal(sub.code, 0, sub.stdout + sub.stderr);
  return jobId(sub.stdout);
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** What the CLI subprocesses of this file see: the test server's data dir, a home of their own. */
function cliEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HOME: h.root,
    SHOAL_CONFIG_DIR: join(h.root, 'config'),
    SHOAL_DATA_DIR: h.dataDir,
  };
}

/** Runs shoal on a pseudo-terminal (util-linux `script`), typing `input` at it. */
function onTerminal(args: string[], input: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, BIN, ...args].map(quote).join(' ');
    const proc = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: h.root,
      env: cliEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // Answer once the question is on the screen, as a person would.
      if (/\[y\/N\]/.test(stdout) && input) {
        proc.stdin.write(input);
        input = '';
      }
    });
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Never hang the suite on a question nobody answers.
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('a closed pipe (shoal log | head) ends the command quietly: exit 141, nothing on stderr', async () => {
  const id = await finishedJob('seq 1 300000', 'lots-of-output');
  const result = await new Promise<{ code: number | null; stderr: string; first: string }>(
    (resolve, reject) => {
      const proc = spawn(process.execPath, [BIN, 'log', id, '-o'], {
        cwd: h.root,
        env: cliEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let first = '';
      let stderr = '';
      proc.stdout.once('data', (d: Buffer) => {
        first = d.toString();
        proc.stdout.destroy(); // the reader goes away, as head does after its lines
      });
      proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      proc.on('error', reject);
      proc.on('close', (code) => resolve({ code, stderr, first }));
    },
  );
  assert.match(result.first, /^==> task\.0 stdout <==\n1\n2\n/);
  assert.equal(result.stderr, '');
  assert.equal(result.code, 141);
});

test('ch and log print JSON with --json; an instance that wrote nothing is said to have written nothing', async () => {
  const id = await finishedJob('echo hello', 'json-out');
  const ch = await h.run(['ch', id, '--json']);
  assert.equal(ch.code, 0, ch.stderr);
  const checked = JSON.parse(ch.stdout) as {
    Job: { Id: string; State: string };
    Tasks: unknown[];
    FailedInstances: unknown[];
  };
  assert.deepEqual(
    [checked.Job.Id, checked.Job.State, checked.Tasks.length, checked.FailedInstances],
    [id, 'Finished', 1, []],
  );
  const log = await h.run(['log', id, '--json']);
  assert.equal(log.code, 0, log.stderr);
  assert.deepEqual(JSON.parse(log.stdout), [
    { TaskName: 'task', InstanceId: 0, Stream: 'stdout', Text: 'hello\n' },
  ]);

  const quiet = await finishedJob('true', 'silent');
  const empty = await h.run(['log', quiet]);
  assert.equal(empty.code, 0, empty.stderr);
  assert.equal(
    empty.stderr,
    `${quiet} is Finished: the instances of ${quiet} wrote nothing to stdout or stderr.\n`,
  );
  const one = await h.run(['log', quiet, 'task', '0', '-e']);
  assert.equal(one.stderr, `${quiet} is Finished: instance 0 of task task wrote nothing to stderr.\n`);
});

test('dj says what it deletes and asks on a terminal; -y and scripts (no terminal) are not asked', async () => {
  const keep = await finishedJob('true', 'keep-me');
  const declined = await onTerminal(['dj', keep], 'n\n');
  assert.equal(declined.code, 1, declined.stdout + declined.stderr);
  assert.match(
    declined.stdout,
    new RegExp(`Delete this job and its logs\\?\\r?\\n  ${keep} "keep-me" \\(Finished\\)`),
  );
  assert.match(declined.stdout, /Nothing deleted\./);
  assert.equal((await h.run(['j', keep, '--json'])).code, 0, 'the job is still there');

  const agreed = await onTerminal(['dj', keep], 'y\n');
  assert.equal(agreed.code, 0, agreed.stdout + agreed.stderr);
  assert.match(agreed.stdout, new RegExp(`Deleted ${keep}`));

  const scripted = await finishedJob('true', 'scripted');
  const noTerminal = await h.run(['dj', scripted]);
  assert.equal(noTerminal.code, 0, noTerminal.stderr);
  assert.equal(noTerminal.stdout, `Deleted ${scripted}\n`);

  const yes = await finishedJob('true', 'with-y');
  const withY = await onTerminal(['dj', yes, '-y'], '');
  assert.equal(withY.code, 0, withY.stdout);
  assert.doesNotMatch(withY.stdout, /\[y\/N\]/);
});

test('oss del of a folder lists what it deletes and asks on a terminal', async () => {
  await writeFile(join(h.root, 'one.txt'), '1');
  for (const key of ['a', 'b'])
    assert.equal((await h.run(['oss', 'up', 'one.txt', `oss://shoal/del-me/${key}`])).code, 0);
  const declined = await onTerminal(['oss', 'del', 'oss://shoal/del-me/'], 'n\n');
  assert.equal(declined.code, 1, declined.stdout);
  assert.match(
    declined.stdout,
    /Delete these 2 objects under oss:\/\/shoal\/del-me\/\?\r?\n  oss:\/\/shoal\/del-me\/a\r?\n  oss:\/\/shoal\/del-me\/b/,
  );
  assert.equal((await h.run(['oss', 'cat', 'oss://shoal/del-me/a'])).stdout, '1');
  const del = await h.run(['oss', 'del', 'oss://shoal/del-me/']);
  assert.equal(del.code, 0, del.stderr);
  assert.equal(del.stdout.split('\n').filter(Boolean).length, 2);
});

test('row numbers hold only while the listing does: sub, cj and dj (even failed) retire them', async () => {
  const first = await finishedJob('true', 'row-first');
  const listed = await h.run(['j', '-t', '1']);
  assert.match(listed.stdout, new RegExp(`^1\\s+${first}`, 'm'));
  assert.equal((await h.run(['ch', '1', '--json'])).code, 0);

  const failedCj = await h.run(['cj', '{"Name": "broken"}']);
  assert.notEqual(failedCj.code, 0);
  const dj = await h.run(['dj', '1', '-y']);
  assert.equal(dj.code, 1);
  assert.match(
    dj.stderr,
    /row 1 of the last "shoal job" listing no longer holds \(a job was submitted since\): run "shoal job" again, or give the job id/,
  );
  assert.equal((await h.run(['j', first, '--json'])).code, 0, 'nothing was deleted');

  // A listing from another server (or key) is not used for this one.
  assert.equal((await h.run(['j', '-t', '1'])).code, 0);
  const elsewhere = await h.run(['ch', '1'], {
    env: {
      SHOAL_ENDPOINT: h.endpoint.replace('127.0.0.1', 'localhost'),
      SHOAL_ACCESS_KEY_ID: h.creds.AccessKeyId,
      SHOAL_ACCESS_KEY_SECRET: h.creds.AccessKeySecret,
    },
  });
  assert.equal(elsewhere.code, 1);
  assert.match(elsewhere.stderr, /it was printed for http:\/\/127\.0\.0\.1:\d+, not this server and key/);
});

test('e shows the newest events first; --after N what followed N, oldest first', async () => {
  await finishedJob('true', 'events');
  const newest = JSON.parse((await h.run(['e', '--json', '-t', '5'])).stdout) as { Seq: number }[];
  assert.equal(newest.length, 5);
  const seqs = newest.map((e) => e.Seq);
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => b - a),
  );
  const last = seqs[0]!;
  const following = JSON.parse((await h.run(['e', '--json', '--after', String(last - 3)])).stdout) as {
    Seq: number;
  }[];
  assert.deepEqual(
    following.map((e) => e.Seq),
    [last - 2, last - 1, last],
  );
});

test('deleting a running job says to stop it first', async () => {
  const sub = await h.run(['sub', 'sleep 30', 'busy']);
  const id = jobId(sub.stdout);
  const dj = await h.run(['dj', id, '-y']);
  assert.equal(dj.code, 1);
  assert.match(
    dj.stderr,
    /^Error: StateConflict: .*cannot delete job job-\S+\. Stop it first \(POST \/jobs\/job-\S+\/stop\), then delete it\. \(RequestId [^)]+\)\n  to stop it: shoal stop job-\S+\n$/,
  );
  assert.equal((await h.run(['stop', id])).code, 0);
});

test('no server at the endpoint: said at once, with the endpoint and how to start or choose one', async () => {
  const closed = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  // What starting the CLI costs here, to compare with: retries would add 200 + 400 + 800 ms of backoff.
  const baselineStart = Date.now();
  assert.equal((await h.run(['--version'])).code, 0);
  const baselineMs = Date.now() - baselineStart;
  const started = Date.now();
  const r = await h.run(['j'], {
    env: {
      SHOAL_ENDPOINT: `http://127.0.0.1:${closed}`,
      SHOAL_ACCESS_KEY_ID: h.creds.AccessKeyId,
      SHOAL_ACCESS_KEY_SECRET: h.creds.AccessKeySecret,
    },
  });
  const tookMs = Date.now() - started;
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(
      `^Error: no Shoal server answers at http://127\\.0\\.0\\.1:${closed} \\(connection refused\\)\\.`,
    ),
  );
  assert.match(r.stderr, /Start one with "shoal server".*--endpoint URL/s);
  assert.ok(tookMs < baselineMs + 1000, `took ${tookMs} ms; the CLI alone ${baselineMs} ms`);
});

test('a port in use: a Shoal server on this data dir is already up; another Shoal or program needs --port', async () => {
  const port = new URL(h.endpoint).port;
  const same = await h.run(['server', '--port', port, '--data-dir', h.dataDir]);
  assert.equal(same.code, 1);
  assert.match(
    same.stderr,
    new RegExp(
      `Shoal is already running on this data dir \\(.+\\) at ${h.endpoint.replace(/\./g, '\\.')}: use it`,
    ),
  );
  const other = await h.run(['server', '--port', port, '--data-dir', join(h.root, 'other-data')]);
  assert.equal(other.code, 1);
  assert.match(
    other.stderr,
    /another Shoal server \(with another data dir\) already listens on 127\.0\.0\.1:\d+: choose another port with --port/,
  );
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  try {
    const held = String((holder.address() as AddressInfo).port);
    const busy = await h.run(['server', '--port', held, '--data-dir', join(h.root, 'other-data')]);
    assert.equal(busy.code, 1);
    assert.match(
      busy.stderr,
      new RegExp(`port ${held} on 127\\.0\\.0\\.1 is in use by another program: choose another with --port`),
    );
  } finally {
    holder.close();
  }
});

test('a wrong secret names the key id and shows the string to sign on one line', async () => {
  const r = await h.run(['j'], {
    env: {
      SHOAL_ENDPOINT: h.endpoint,
      SHOAL_ACCESS_KEY_ID: h.creds.AccessKeyId,
      SHOAL_ACCESS_KEY_SECRET: 'wrong',
    },
  });
  assert.equal(r.code, 1);
  const line = r.stderr.split('\n')[0]!;
  assert.match(
    line,
    new RegExp(
      `^Error: SignatureDoesNotMatch: The request signature does not match for AccessKeyId "${h.creds.AccessKeyId}"`,
    ),
  );
  assert.match(line, /String to sign \(raw target; newlines shown as \\n\): GET\\n/);
  assert.doesNotMatch(r.stderr, /wrong/, 'the secret itself is never echoed');
});
