/**
 * How failures reach the user: `Error: <Code>: <Message> (RequestId …)` for API errors, the message
 * alone for input errors, and the stack too when DEBUG is set.
 */
import { isConnectionRefused, ShoalApiError } from '@shoal/sdk';

/** The server a request went to, from the SDK's network error message (`GET http://host:port/path: ...`). */
function origin(message: string): string {
  return /\b(https?:\/\/[^/\s:]+(?::\d+)?)/.exec(message)?.[1] ?? 'the endpoint';
}

export function formatError(err: unknown, debug: boolean): string {
  let line: string;
  if (err instanceof ShoalApiError && err.code === 'NetworkError' && isConnectionRefused(err)) {
    line =
      `Error: no Shoal server answers at ${origin(err.message)} (connection refused).\n` +
      `  Start one with "shoal server" (it prints its endpoint), or point at another with --endpoint URL,\n` +
      `  SHOAL_ENDPOINT, or "shoal login URL ACCESS_KEY_ID ACCESS_KEY_SECRET".`;
  } else if (err instanceof ShoalApiError) {
    line = `Error: ${err.code}: ${err.message}${err.requestId ? ` (RequestId ${err.requestId})` : ''}`;
  } else if (err instanceof Error) {
    line = `Error: ${err.message}`;
  } else {
    line = `Error: ${String(err)}`;
  }
  if (debug && err instanceof Error && err.stack) line += `\n${err.stack}`;
  return `${line}\n`;
}
