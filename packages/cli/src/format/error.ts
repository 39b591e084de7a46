/**
 * How failures reach the user: `Error: <Code>: <Message> (RequestId …)` for API errors, the message
 * alone for input errors, and the stack too when DEBUG is set.
 */
import { ShoalApiError } from '@shoal/sdk';

export function formatError(err: unknown, debug: boolean): string {
  let line: string;
  if (err instanceof ShoalApiError) {
    line = `Error: ${err.code}: ${err.message}${err.requestId ? ` (RequestId ${err.requestId})` : ''}`;
  } else if (err instanceof Error) {
    line = `Error: ${err.message}`;
  } else {
    line = `Error: ${String(err)}`;
  }
  if (debug && err instanceof Error && err.stack) line += `\n${err.stack}`;
  return `${line}\n`;
}
