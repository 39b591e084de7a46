/**
 * CommandLine -> argv, with shell-like quoting but no shell: the program is executed directly, so nothing
 * here expands variables, globs, or treats `|`, `>`, `;`, `&&` as operators (they are ordinary arguments).
 * A user who wants a shell writes `/bin/bash -c '...'`.
 *
 * Rules (a subset of POSIX sh word splitting):
 * - unquoted spaces, tabs, newlines and carriage returns separate words;
 * - `'...'` is literal up to the next `'`;
 * - inside `"..."`, a backslash escapes only `"`, `\`, `$` and a backquote (and drops a following newline);
 *   any other backslash is kept as is;
 * - outside quotes, a backslash takes the next character literally (a backslash-newline is dropped; a
 *   trailing backslash is kept);
 * - adjacent quoted and unquoted parts join into one word, so `''` and `""` are empty arguments.
 */

/** Raised for a command line that cannot be split (an unterminated quote). */
export class CommandLineError extends Error {
  /** 0-based index in the command line of the character at fault (the opening quote). */
  readonly index: number;

  constructor(message: string, index: number) {
    super(message);
    this.name = 'CommandLineError';
    this.index = index;
  }
}

const SEPARATORS = new Set([' ', '\t', '\n', '\r']);
const DOUBLE_QUOTE_ESCAPABLE = new Set(['"', '\\', '$', '`']);

/** Splits a command line into argv; throws CommandLineError naming the position of an unterminated quote. */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  // A quote starts a word even when it adds no characters ('' is an argument).
  let inWord = false;
  let i = 0;
  const n = line.length;

  while (i < n) {
    const c = line[i]!;
    if (SEPARATORS.has(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) throw unterminated('single', i);
      word += line.slice(i + 1, close);
      inWord = true;
      i = close + 1;
    } else if (c === '"') {
      const open = i;
      i++;
      let closed = false;
      while (i < n) {
        const d = line[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < n) {
          const next = line[i + 1]!;
          if (DOUBLE_QUOTE_ESCAPABLE.has(next)) {
            word += next;
            i += 2;
            continue;
          }
          if (next === '\n') {
            i += 2;
            continue;
          }
        }
        word += d;
        i++;
      }
      if (!closed) throw unterminated('double', open);
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= n) {
        word += c;
        i++;
      } else if (line[i + 1] === '\n') {
        i += 2;
        continue;
      } else {
        word += line[i + 1]!;
        i += 2;
      }
      inWord = true;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Why `line` cannot be split (or is empty), or undefined when it is a usable command line. */
export function commandLineProblem(line: unknown): string | undefined {
  if (typeof line !== 'string') return 'must be a string';
  try {
    if (splitCommandLine(line).length === 0) return 'must name a program to run';
  } catch (err) {
    if (err instanceof CommandLineError) return err.message;
    throw err;
  }
  return undefined;
}

function unterminated(kind: 'single' | 'double', index: number): CommandLineError {
  return new CommandLineError(
    `unterminated ${kind} quote: the quote at position ${index + 1} of the command line is never closed`,
    index,
  );
}
