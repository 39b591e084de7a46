/**
 * Confirmation before destructive commands: asked on a terminal only (never in scripts, which the bcs
 * `-y` flag served before), after saying exactly what will be deleted.
 */
import type { CliContext } from './context.js';

/** True when the command may go ahead: `-y`, no terminal to ask, or the user answered yes. */
export async function confirmed(ctx: CliContext, what: string, yes: boolean | undefined): Promise<boolean> {
  if (yes || !ctx.ask) return true;
  const answer = (await ctx.ask(`${what}\nContinue? [y/N] `)).trim().toLowerCase();
  if (answer === 'y' || answer === 'yes') return true;
  ctx.stderr.write('Nothing deleted.\n');
  return false;
}
