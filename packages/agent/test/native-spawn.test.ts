/** shoal-spawn as a process: what commands inherit, and how it answers records it cannot use. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NATIVE_SPAWNER_PATH, NativeLauncher } from '../src/runner/launch/native.js';
import { sandboxSkip } from '../src/testing.js';

const dir = mkdtempSync(join(tmpdir(), 'shoal-native-'));
const helpers: ChildProcess[] = [];
after(() => {
  for (const child of helpers) child.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** A record as NativeLauncher writes it: length, then NUL-terminated fields. */
function record(
  fields: readonly string[],
  raw = Buffer.from(fields.map((f) => `${f}\u0000`).join('')),
): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(raw.length, 0);
  return Buffer.concat([head, raw]);
}

function command(id: string, file: string, args: string[], out: string): string[] {
  return ['L', id, file, dir, out, out, String(args.length + 1), file, ...args, '1', 'PATH=/usr/bin:/bin'];
}

/** Starts the helper and collects its reply lines; `extra` are more stdio slots (fd 3 onwards). */
function helper(extra: Array<'pipe' | 'ignore'> = []): {
  child: ChildProcess;
  replies: (n: number) => Promise<string[]>;
} {
  const child = spawn(NATIVE_SPAWNER_PATH, [], { stdio: ['pipe', 'pipe', 'inherit', ...extra] });
  helpers.push(child);
  let text = '';
  const waiting: Array<() => void> = [];
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    text += chunk;
    for (const wake of waiting.splice(0)) wake();
  });
  const replies = async (n: number): Promise<string[]> => {
    while (text.split('\n').length - 1 < n) await new Promise<void>((resolve) => waiting.push(resolve));
    return text.split('\n').slice(0, n);
  };
  return { child, replies };
}

const available = NativeLauncher.available();

// A helper that drops a reply would leave a test waiting: the timeout turns that into a failure.
const suite = {
  skip: available ? false : sandboxSkip('not built (no C compiler during npm ci)'),
  timeout: 10_000,
};

describe('native shoal-spawn', suite, () => {
  it('passes only stdin, stdout and stderr to commands, not descriptors the agent inherited', async () => {
    // fd 9 of the helper is a pipe inherited without FD_CLOEXEC, as from whatever started the agent.
    const { child, replies } = helper(['ignore', 'ignore', 'ignore', 'ignore', 'ignore', 'ignore', 'pipe']);
    const out = join(dir, 'fds');
    child.stdin!.write(record(command('1', 'ls', ['-l', `/proc/${child.pid}/fd`, '/proc/self/fd'], out)));
    const [started, ended] = await replies(2);
    assert.match(started ?? '', /^P 1 \d+$/);
    assert.equal(ended, `X 1 0 0 -1 -1 -1 -1`);
    child.stdin!.end();
    // ls prints one section per directory, headed by its name.
    const sections = new Map(
      readFileSync(out, 'utf8')
        .split(/\n\n/)
        .map((section) => [section.slice(0, section.indexOf(':\n')), section] as const),
    );
    const helperPart = sections.get(`/proc/${child.pid}/fd`) ?? '';
    const commandPart = sections.get('/proc/self/fd') ?? '';
    // The helper really holds fd 9, so the test would see a leak.
    assert.match(helperPart, / 9 -> (socket|pipe):/);
    const fds = [...commandPart.matchAll(/ (\d+) -> (.*)$/gm)].map(([, fd, target]) => ({
      fd: Number(fd),
      target,
    }));
    assert.deepEqual(
      fds.filter((f) => f.fd > 2 && !/^\/proc\/\d+\/fd$/.test(f.target ?? '')),
      [],
      `the command saw more than 0, 1, 2 and ls's own directory:\n${commandPart}`,
    );
    assert.deepEqual(
      fds.filter((f) => f.fd <= 2).map((f) => f.fd),
      [0, 1, 2],
    );
  });

  it('answers EINVAL to malformed records it can name, ignores nameless ones, and keeps working', async () => {
    const { child, replies } = helper();
    const out = join(dir, 'ok');
    const good = command('10', 'sh', ['-c', 'echo fine'], out);
    const trailing = command('9', 'sh', ['-c', 'echo fine'], out);
    const records = [
      // The last field has no NUL: the walk must stop at the end of the record.
      record(
        [],
        Buffer.from(
          'L\u00002\u0000sh\u0000/\u0000/dev/null\u0000/dev/null\u00001\u0000sh\u00000\u0000PATH=/bin',
        ),
      ),
      // argc larger than the record could hold.
      record(['L', '3', 'sh', dir, out, out, '999999', 'sh', '0']),
      // envc too large, and a count that is not a number.
      record(['L', '4', 'sh', dir, out, out, '1', 'sh', '5', 'A=1']),
      record(['L', '5', 'sh', dir, out, out, '-1', 'sh', '0']),
      record(['L', '6', 'sh', dir, out, out, '1x', 'sh', '0']),
      // Fields missing altogether, and bytes after the environment.
      record(['L', '7', 'sh']),
      record([...trailing, 'extra']),
      // No readable id: nothing to answer.
      record([], Buffer.from('L\u00008')),
      record(['L', 'not-an-id', 'sh', dir, out, out, '1', 'sh', '0']),
      record(good),
    ];
    child.stdin!.write(Buffer.concat(records));
    const lines = await replies(9);
    assert.deepEqual(lines.slice(0, 7), [
      'E 2 22',
      'E 3 22',
      'E 4 22',
      'E 5 22',
      'E 6 22',
      'E 7 22',
      'E 9 22',
    ]);
    assert.match(lines[7] ?? '', /^P 10 \d+$/);
    assert.equal(lines[8], 'X 10 0 0 -1 -1 -1 -1');
    child.stdin!.end();
    assert.equal(readFileSync(out, 'utf8'), 'fine\n');
  });

  it('exposes a host mount only through a path without links', async (t) => {
    if (process.getuid?.() !== 0) return t.skip(sandboxSkip('exposing paths needs a root helper'));
    // A link anywhere on the way (the last component or one before it), as a user who can write in an
    // allowed directory could swap in after the agent checked the path.
    const real = join(dir, 'real');
    mkdirSync(join(real, 'sub'), { recursive: true });
    symlinkSync(real, join(dir, 'link'));
    const launcher = new NativeLauncher();
    try {
      for (const path of [join(dir, 'link'), join(dir, 'link', 'sub')]) {
        const errorLog = join(dir, `open-${path.length}.log`);
        await assert.rejects(
          launcher.openSandbox(`nolinks${path.length}`, {
            uid: 65534,
            gid: 65534,
            errorLog,
            bwrapPath: '/usr/bin/false',
            expose: [`nolinks:${path}`],
            args: [],
          }),
        );
        assert.match(
          readFileSync(errorLog, 'utf8'),
          /open without following links .*: Too many levels of symbolic links/,
        );
      }
    } finally {
      await launcher.close();
    }
  });
});
