import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IniSyntaxError, parseIni, substituteVariables } from './parse.js';

test('sections, DEFAULT, both delimiters, case-insensitive keys and line-start comments', () => {
  const doc = parseIni(
    [
      '# comment',
      '[DEFAULT]',
      'Job_Name = log-count',
      'deps=split->count;count->merge',
      '; another comment',
      '[split]',
      'cmd: python split.py --mode=fast',
      '  # indented comment',
      '[count]',
      'CMD = python count.py   ',
      'nodes=3',
      'empty =',
    ].join('\n'),
  );
  assert.deepEqual(Object.fromEntries(doc.defaults), {
    job_name: 'log-count',
    deps: 'split->count;count->merge',
  });
  assert.deepEqual(
    doc.sections.map((s) => [s.name, Object.fromEntries(s.values)]),
    [
      ['split', { cmd: 'python split.py --mode=fast' }],
      ['count', { cmd: 'python count.py', nodes: '3', empty: '' }],
    ],
  );
});

test('indented lines continue a value; blank lines inside stay, trailing ones go', () => {
  const doc = parseIni('[t]\ncmd = echo a &&\n  echo b\n\n  echo c\n\nnext = 1\n\n');
  const values = Object.fromEntries(doc.sections[0]!.values);
  assert.equal(values['cmd'], 'echo a &&\necho b\n\necho c');
  assert.equal(values['next'], '1');
});

test('CRLF, a BOM and section names with spaces are accepted', () => {
  const doc = parseIni('\uFEFF[my task]\r\ncmd = x\r\n');
  assert.equal(doc.sections[0]!.name, 'my task');
  assert.equal(doc.sections[0]!.values.get('cmd'), 'x');
});

test('syntax errors name the file and line', () => {
  assert.throws(
    () => parseIni('cmd = x', 'a.cfg'),
    (e: unknown) =>
      e instanceof IniSyntaxError && e.message === 'a.cfg:1: option before the first [section] header',
  );
  assert.throws(() => parseIni('[t]\njust words'), /job\.cfg:2: expected "key = value"/);
  assert.throws(() => parseIni('[t]\n= v'), /job\.cfg:2/);
  assert.throws(() => parseIni('[t]\na=1\n[t]\n'), /job\.cfg:3: section \[t\] appears twice/);
  assert.throws(() => parseIni('[t]\na=1\nA=2\n'), /option "a" appears twice/);
});

test('$variables from any section replace their occurrences in every value', () => {
  const doc = substituteVariables(
    parseIni(
      [
        '[DEFAULT]',
        '$bucket = oss://my-bucket/log-count/',
        'read_mount = $bucket:/home/input',
        '[split]',
        '$DIR2 = /opt/two',
        '$dir = /opt/one',
        'cmd = ls $dir $dir2 $BUCKET',
      ].join('\n'),
    ),
  );
  assert.equal(doc.defaults.get('read_mount'), 'oss://my-bucket/log-count/:/home/input');
  assert.equal(doc.sections[0]!.values.get('cmd'), 'ls /opt/one /opt/two oss://my-bucket/log-count/');
});
