/**
 * A real Chromium (Debian's) driven by playwright-core, for the console's tests and `npm run screenshots`.
 * Never `playwright install`: these machines cannot download browsers (infra.md).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser cannot run here, or undefined when it can. */
export function browserUnavailable(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install chromium)`;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The admin's ready sign-in link, as `shoal server` prints it. */
export function signInLink(
  url: string,
  credentials: { AccessKeyId: string; AccessKeySecret: string },
): string {
  return `${url}/console/#/signin?key=${encodeURIComponent(credentials.AccessKeyId)}&secret=${encodeURIComponent(credentials.AccessKeySecret)}`;
}
