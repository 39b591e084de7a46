// System packages Shoal's scripts need beyond npm: today only bubblewrap, which runs tasks that map
// absolute paths (/home/input, ...) in a sandbox. Shared by scripts/test.mjs and the log-count demo.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export const BWRAP_PATH = '/usr/bin/bwrap';

/**
 * Installs bubblewrap with apt-get when it is missing and we may (root, and SHOAL_TEST_NO_INSTALL not
 * set). Returns whether /usr/bin/bwrap exists afterwards; `consequence` says what happens without it.
 *
 * @example if (!ensureBubblewrap({ purpose: 'the demo', consequence: 'the demo cannot run' })) process.exit(1);
 */
export function ensureBubblewrap({
  purpose = 'the sandbox tests',
  consequence = 'sandbox tests will be skipped',
  env = process.env,
} = {}) {
  if (existsSync(BWRAP_PATH)) return true;
  if (process.getuid?.() !== 0 || env.SHOAL_TEST_NO_INSTALL) {
    console.warn(`bubblewrap is not installed: ${consequence} (apt-get install bubblewrap)`);
    return false;
  }
  console.log(`installing bubblewrap for ${purpose} (apt-get)...`);
  const apt = ['-o', 'DPkg::Lock::Timeout=300'];
  spawnSync('apt-get', [...apt, 'update', '-q'], { stdio: 'inherit' });
  const r = spawnSync('apt-get', [...apt, 'install', '-y', '-q', '--no-install-recommends', 'bubblewrap'], {
    stdio: 'inherit',
  });
  if (r.status !== 0 || !existsSync(BWRAP_PATH)) {
    console.warn(`could not install bubblewrap: ${consequence}`);
    return false;
  }
  return true;
}
