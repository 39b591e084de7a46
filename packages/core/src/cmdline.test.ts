import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandLineError, commandLineProblem, splitCommandLine } from './cmdline.js';

const table: Array<[string, string[]]> = [
  ['python main.py', ['python', 'main.py']],
  ['  a \t b\n c  ', ['a', 'b', 'c']],
  ['', []],
  ['   ', []],
  ["echo 'a  b'", ['echo', 'a  b']],
  ['echo \'a "b" $HOME \\n\'', ['echo', 'a "b" $HOME \\n']],
  ['echo "a  b"', ['echo', 'a  b']],
  ['echo "say \\"hi\\""', ['echo', 'say "hi"']],
  ['echo "\\\\ \\$x \\` \\n"', ['echo', '\\ $x ` \\n']],
  ['echo "$HOME" $PATH', ['echo', '$HOME', '$PATH']],
  ['echo a\\ b \\"c\\" \\\\', ['echo', 'a b', '"c"', '\\']],
  ['echo trailing\\', ['echo', 'trailing\\']],
  ['echo a\\\nb', ['echo', 'ab']],
  ["echo '' \"\" x''y", ['echo', '', '', 'xy']],
  ['a\'b\'"c"d', ['abcd']],
  ['echo a | b > c; d && e & f', ['echo', 'a', '|', 'b', '>', 'c;', 'd', '&&', 'e', '&', 'f']],
  ['ls *.txt ~ $(id) `id`', ['ls', '*.txt', '~', '$(id)', '`id`']],
  ['echo 日本語 "ünï cødé" \'🐟 shoal\'', ['echo', '日本語', 'ünï cødé', '🐟 shoal']],
  ["/bin/bash -c 'for i in 1 2; do echo $i; done'", ['/bin/bash', '-c', 'for i in 1 2; do echo $i; done']],
];

for (const [line, argv] of table) {
  test(`splitCommandLine(${JSON.stringify(line)})`, () => {
    assert.deepEqual(splitCommandLine(line), argv);
  });
}

test('an unterminated single quote is an error naming its position', () => {
  assert.throws(
    () => splitCommandLine("echo 'abc"),
    (err: unknown) =>
      err instanceof CommandLineError &&
      err.index === 5 &&
      /single quote/.test(err.message) &&
      /position 6/.test(err.message),
  );
});

test('an unterminated double quote is an error naming its position, escaped quotes do not close it', () => {
  assert.throws(
    () => splitCommandLine('a "b\\"'),
    (err: unknown) => err instanceof CommandLineError && err.index === 2 && /double quote/.test(err.message),
  );
});

test('a quote inside the other kind of quote is literal', () => {
  assert.deepEqual(splitCommandLine(`echo "it's" 'say "x"'`), ['echo', "it's", 'say "x"']);
});

test('commandLineProblem', () => {
  assert.equal(commandLineProblem('ls -l'), undefined);
  assert.match(commandLineProblem('  ') ?? '', /program/);
  assert.match(commandLineProblem('"x') ?? '', /unterminated double quote/);
  assert.match(commandLineProblem(3) ?? '', /string/);
});
