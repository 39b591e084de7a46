/**
 * Running without the sandbox is an explicit operator choice the server makes visible, and refuses while
 * users other than the admin could run commands that read everyone's data.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveServerOptions } from '../src/options.js';
import { startTestShoal } from './helpers.js';

test('--sandbox off is announced by GET /available and refuses new users', async () => {
  const shoal = await startTestShoal({ sandbox: 'off' });
  try {
    const available = await shoal.api('GET', '/available');
    assert.equal(available.json.Sandbox.Mode, 'off');
    assert.equal(available.json.Sandbox.Limits, false);
    assert.match(available.json.Sandbox.Warning, /unconfined as the server's own user/);
    const user = await shoal.api('POST', '/users', { Name: 'bob' });
    assert.equal(user.status, 409, user.text);
    assert.match(user.json.Message, /--sandbox off.*--allow-unsandboxed-users/);
  } finally {
    await shoal.cleanup();
  }
});

test('a server with users does not start unsandboxed unless --allow-unsandboxed-users', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shoal-unsandboxed-'));
  try {
    const first = await startTestShoal({ slots: 0 }, dataDir);
    assert.equal((await first.api('POST', '/users', { Name: 'carol' })).status, 201);
    await first.cleanup();
    await assert.rejects(
      startTestShoal({ sandbox: 'off' }, dataDir),
      /users other than the admin.*--allow-unsandboxed-users/s,
    );
    const allowed = await startTestShoal({ sandbox: 'off', allowUnsandboxedUsers: true }, dataDir);
    assert.equal((await allowed.api('POST', '/users', { Name: 'dave' })).status, 201);
    await allowed.cleanup();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("the sandbox mode 'auto' of earlier versions is refused with the reason", () => {
  assert.throws(
    () => resolveServerOptions({ dataDir: '/tmp/x', sandbox: 'auto' as 'off' }),
    /sandbox must be bwrap or off, got auto \(auto was removed: every attempt is sandboxed now\)/,
  );
});
