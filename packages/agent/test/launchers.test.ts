/** The three launchers behave the same: exit codes, signals, spawn errors, files, working directory. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DirectLauncher } from '../src/runner/launch/direct.js';
import { NativeLauncher } from '../src/runner/launch/native.js';
import { sandboxSkip } from '../src/testing.js';
import { SpawnerLauncher } from '../src/runner/launch/spawner.js';
import type { ExitInfo, Launcher, LaunchRequest } from '../src/runner/launch/types.js';

const dir = mkdtempSync(join(tmpdir(), 'shoal-launch-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function request(file: string, args: string[], extra: Partial<LaunchRequest> = {}): LaunchRequest {
  return {
    file,
    args,
    cwd: dir,
    env: { PATH: '/usr/bin:/bin', MARK: 'x y' },
    stdoutFile: join(dir, 'out'),
    stderrFile: join(dir, 'err'),
    ...extra,
  };
}

async function run(launcher: Launcher, req: LaunchRequest): Promise<{ pid: number; exit: ExitInfo }> {
  let done!: (e: ExitInfo) => void;
  const exited = new Promise<ExitInfo>((resolve) => (done = resolve));
  const { pid } = await launcher.start(req, done);
  return { pid, exit: await exited };
}

const launchers: [string, () => Launcher][] = [
  ['direct', () => new DirectLauncher()],
  ['node spawner', () => new SpawnerLauncher()],
];
if (NativeLauncher.available()) launchers.push(['native shoal-spawn', () => new NativeLauncher()]);
else it.skip(sandboxSkip('native shoal-spawn: not built (no C compiler during npm ci)'));

for (const [name, make] of launchers) {
  describe(`launcher: ${name}`, () => {
    it('runs in the working directory with the given env, output to files', async () => {
      const l = make();
      const { pid, exit } = await run(l, request('sh', ['-c', 'pwd; echo "$MARK"; echo oops >&2; exit 3']));
      assert.ok(pid > 0);
      assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 3, signal: null });
      assert.equal(readFileSync(join(dir, 'out'), 'utf8'), `${dir}\nx y\n`);
      assert.equal(readFileSync(join(dir, 'err'), 'utf8'), 'oops\n');
      await l.close();
    });

    it('reports a signal death by name', async () => {
      const l = make();
      const { exit } = await run(l, request('sh', ['-c', 'kill -TERM $$']));
      assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: null, signal: 'SIGTERM' });
      await l.close();
    });

    it('rejects a missing program with ENOENT', async () => {
      const l = make();
      await assert.rejects(
        l.start(request('no-such-program-xyz', []), () => undefined),
        { code: 'ENOENT' },
      );
      await l.close();
    });

    it('signals the whole process group', async () => {
      const l = make();
      let done!: (e: ExitInfo) => void;
      const exited = new Promise<ExitInfo>((resolve) => (done = resolve));
      const launched = await l.start(request('sh', ['-c', 'sleep 30 & wait']), done);
      launched.signal('SIGTERM');
      const exit = await exited;
      assert.equal(exit.signal, 'SIGTERM');
      await l.close();
    });

    it('gives each command its own process group', async () => {
      const l = make();
      const { exit } = await run(l, request('sh', ['-c', 'test "$(ps -o pgid= -p $$ | tr -d " ")" = "$$"']));
      assert.equal(exit.code, 0);
      await l.close();
    });
  });
}
