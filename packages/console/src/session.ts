/**
 * Who is signed in: an access key kept in this browser (localStorage), and the SDK client that signs with
 * it. The console talks to the API that served it (same origin), only through @shoal/sdk.
 */
import { ShoalClient } from '@shoal/sdk';

export interface Session {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
}

const KEY = 'shoal.session';

export function loadSession(): Session | undefined {
  try {
    const raw = localStorage.getItem(KEY);
    const parsed = raw ? (JSON.parse(raw) as Partial<Session>) : undefined;
    return parsed?.accessKeyId && parsed.accessKeySecret
      ? { accessKeyId: parsed.accessKeyId, accessKeySecret: parsed.accessKeySecret }
      : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session | undefined): void {
  if (session) localStorage.setItem(KEY, JSON.stringify(session));
  else localStorage.removeItem(KEY);
}

export function clientFor(session: Session): ShoalClient {
  return new ShoalClient({
    endpoint: window.location.origin,
    accessKeyId: session.accessKeyId,
    accessKeySecret: session.accessKeySecret,
  });
}

/** The sign-in link the server prints: `#/signin?key=<id>&secret=<secret>` (a fragment never reaches a server). */
export function sessionFromLink(hash: string): Session | undefined {
  const match = /^#\/signin\?(.*)$/.exec(hash);
  if (!match) return undefined;
  const params = new URLSearchParams(match[1]);
  const key = params.get('key');
  const secret = params.get('secret');
  return key && secret ? { accessKeyId: key, accessKeySecret: secret } : undefined;
}
