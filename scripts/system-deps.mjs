// System packages Shoal's scripts need beyond npm: bubblewrap (every attempt runs in its sandbox), and,
// for the tests of image kinds, debootstrap (a real Debian root filesystem) and docker.io (a Docker
// engine the tests start themselves), and chromium for the console's browser tests. Shared by scripts/test.mjs and the log-count demo.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export const BWRAP_PATH = '/usr/bin/bwrap';

const PACKAGES = {
  bubblewrap: { command: BWRAP_PATH },
  debootstrap: { command: '/usr/sbin/debootstrap' },
  'docker.io': { command: '/usr/sbin/dockerd' },
  chromium: { command: '/usr/bin/chromium' },
};

let updated = false;

/**
 * Installs Debian packages with apt-get when they are missing and we may (root, and SHOAL_TEST_NO_INSTALL
 * not set). Returns whether all are present afterwards; `consequence` says what happens without them.
 *
 * @example if (!ensurePackages(['bubblewrap'], { purpose: 'the demo', consequence: 'the demo cannot run' })) process.exit(1);
 */
export function ensurePackages(names, { purpose, consequence, env = process.env }) {
  const missing = names.filter((n) => !existsSync(PACKAGES[n]?.command ?? `/nonexistent/${n}`));
  if (missing.length === 0) return true;
  if (process.getuid?.() !== 0 || env.SHOAL_TEST_NO_INSTALL) {
    console.warn(
      `${missing.join(', ')} not installed: ${consequence} (apt-get install ${missing.join(' ')})`,
    );
    return false;
  }
  console.log(`installing ${missing.join(', ')} for ${purpose} (apt-get)...`);
  const apt = ['-o', 'DPkg::Lock::Timeout=300'];
  if (!updated) spawnSync('apt-get', [...apt, 'update', '-q'], { stdio: 'inherit' });
  updated = true;
  const r = spawnSync('apt-get', [...apt, 'install', '-y', '-q', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
  });
  const still = missing.filter((n) => !existsSync(PACKAGES[n].command));
  if (r.status !== 0 || still.length) {
    console.warn(`could not install ${still.join(', ') || missing.join(', ')}: ${consequence}`);
    return false;
  }
  return true;
}

/** bubblewrap, without which no attempt runs. */
export function ensureBubblewrap({
  purpose = 'the sandbox tests',
  consequence = 'sandbox tests will fail',
  env = process.env,
} = {}) {
  return ensurePackages(['bubblewrap'], { purpose, consequence, env });
}
