/**
 * The `shoal` / `bcs` program. `main(argv)` is what bin/shoal.js calls; it never exits the process
 * itself but resolves to the exit code, and it is the one place that reads process globals.
 */
import { homedir } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { Command, CommanderError } from 'commander';
import { registerAccountCommands } from './commands/account.js';
import { registerActionCommands } from './commands/actions.js';
import { registerAdminCommands } from './commands/admin.js';
import { registerCatalogCommands } from './commands/catalog.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerImageCommands } from './commands/image.js';
import { registerClusterCommands } from './commands/cluster.js';
import { registerAgentCommands } from './commands/agent.js';
import { registerManageCommands } from './commands/manage.js';
import { registerOssCommands } from './commands/oss.js';
import { registerCheckCommand } from './commands/check.js';
import { registerJobCommand } from './commands/job.js';
import { registerLogCommand } from './commands/log.js';
import { registerServerCommand } from './commands/server.js';
import { registerSubmitCommand } from './commands/submit.js';
import { CliError, type CliContext, type ExitState } from './context.js';
import { JobConfigError } from './jobcfg/pairs.js';
import { IniSyntaxError } from './jobcfg/parse.js';
import { formatError } from './format/error.js';

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

function processContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    homeDir: process.env['HOME'] || homedir(),
    now: () => Date.now(),
    ...(process.stdin.isTTY && process.stderr.isTTY ? { ask } : {}),
    untilSignal: () =>
      new Promise((resolve) => {
        const onSignal = (signal: NodeJS.Signals): void => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve(signal);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      }),
  };
}

/** Builds the commander program for a context (exposed for embedding and tests). */
export function createProgram(ctx: CliContext, exit: ExitState): Command {
  const program = new Command('shoal')
    .description('Shoal batch compute: bcs-compatible command line (also installed as `bcs`)')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void ctx.stdout.write(s), writeErr: (s) => void ctx.stderr.write(s) })
    .showSuggestionAfterError();
  for (const register of [
    registerServerCommand,
    registerSubmitCommand,
    registerJobCommand,
    registerCheckCommand,
    registerLogCommand,
    registerActionCommands,
    registerManageCommands,
    registerAccountCommands,
    registerCatalogCommands,
    registerImageCommands,
    registerClusterCommands,
    registerAgentCommands,
    registerOssCommands,
    registerAdminCommands,
    registerCompletionCommand,
  ]) {
    register(program, ctx, exit);
  }
  return program;
}

/**
 * Runs the CLI with `argv` as in process.argv (node, script, ...args) and resolves to the exit code.
 *
 * @example
 * process.exitCode = await main(process.argv);
 */
export async function main(argv: readonly string[], context?: CliContext): Promise<number> {
  const ctx = context ?? processContext();
  const exit: ExitState = { code: 0 };
  try {
    await createProgram(ctx, exit).parseAsync([...argv], { from: 'node' });
    return exit.code;
  } catch (err) {
    // Commander has already printed its own usage errors and help; usage errors exit 2, as in Unix tools.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    ctx.stderr.write(formatError(err, Boolean(ctx.env['DEBUG'])));
    if (err instanceof CliError) return err.exitCode;
    if (err instanceof JobConfigError || err instanceof IniSyntaxError) return 2;
    return 1;
  }
}
