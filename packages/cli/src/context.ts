/**
 * What commands get from the entry point instead of reaching for globals: output streams, the
 * environment, the working directory and the clock. Tests and embedders pass their own.
 */
import type { Command } from 'commander';

export interface CliOutput {
  write(text: string | Uint8Array): unknown;
  /** True when the stream is an interactive terminal (progress is then redrawn in place). */
  readonly isTTY?: boolean;
}

export interface CliContext {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly homeDir: string;
  now(): number;
  /**
   * Asks the user a question and resolves to the answer; present only when a person can answer (stdin and
   * stderr are terminals), so commands never wait for input a script cannot give.
   */
  ask?(question: string): Promise<string>;
  /** Resolves when the user asks the process to stop (SIGINT/SIGTERM). */
  untilSignal(): Promise<string>;
}

/** A failure the user can act on (unreadable file, unknown row number): printed without a stack, exit 1. */
export class CliError extends Error {
  readonly exitCode: number = 1;

  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** A command line that cannot be carried out as typed (bad option value or argument): exit 2, as usage errors. */
export class UsageError extends CliError {
  override readonly exitCode: number = 2;

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Commands report their exit code through this holder; commander's action results are not kept. */
export interface ExitState {
  code: number;
}

/** Registers one command (or a few aliases of one) on the program. */
export type CommandRegistrar = (program: Command, ctx: CliContext, exit: ExitState) => void;
