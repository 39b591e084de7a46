/**
 * The docs are tested: every shell, TypeScript and JavaScript block of README.md, docs/*.md,
 * examples/*\/README.md and packages/*\/README.md runs as written, in order, each file in a fresh copy of
 * the repository's tracked files (what a clone holds), against the real server its blocks start. A block
 * that is not meant to run says so in the source, on the line before it: `<!-- docs-test: skip <why> -->`;
 * this test prints those reasons. A file's TypeScript blocks are one module (later blocks use what earlier
 * ones declared), type-checked with `tsc --strict` and run where its last block stands; a JavaScript block
 * is saved as a CommonJS file in the copy's root and run with node, as the README says.
 *
 * What the runner adds, and nothing more: each file runs as one bash script with `set -euo pipefail` from
 * the copy's root (so `cd` and `export` carry from block to block, as for a reader typing them); `npm ci`
 * is skipped (the copy shares this checkout's installed node_modules); a command that keeps running (`shoal
 * server`, `npm run demo` without `--exit`, `log -f`) is started in the background, waited for, and
 * stopped when the file ends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SKIP = /^<!--\s*docs-test:\s*skip\s+(.+?)\s*-->$/;
const FENCE = /^(\s*)```(sh|bash|shell|ts|typescript|js|javascript)\s*$/;
const KIND: Record<string, Block['kind']> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js' };

interface Block {
  file: string;
  line: number;
  kind: 'sh' | 'ts' | 'js';
  code: string;
  skip?: string;
}

/** The documentation files, in reading order. */
function docFiles(): string[] {
  const within = (dir: string, pick: (name: string) => boolean): string[] => {
    try {
      return readdirSync(join(ROOT, dir))
        .filter(pick)
        .sort()
        .map((name) => join(dir, name));
    } catch {
      return [];
    }
  };
  const readmes = (dir: string): string[] =>
    within(dir, () => true).flatMap((sub) => within(sub, (n) => n === 'README.md'));
  return [
    'README.md',
    ...within('docs', (n) => n.endsWith('.md')),
    ...readmes('examples'),
    ...readmes('packages'),
  ];
}

export function codeBlocks(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = FENCE.exec(lines[i]!);
    if (!fence) continue;
    // A block inside a list item is indented as a whole; its lines lose that indentation.
    const indent = fence[1]!.length;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!.slice(indent));
    const marker = SKIP.exec((lines[start - 1] ?? '').trim());
    const kind = KIND[fence[2]!] ?? 'sh';
    blocks.push({
      file,
      line: start + 1,
      kind,
      code: body.join('\n'),
      ...(marker ? { skip: marker[1]! } : {}),
    });
  }
  return blocks;
}

/**
 * Commands that keep running: what says they are up, and whether they are stopped at once (as a reader
 * presses Ctrl-C once the demo is done) or only when the file ends (a server later blocks talk to).
 */
const LONG_RUNNING: { command: RegExp; ready: string; stop: 'now' | 'at-end' }[] = [
  { command: /^(npx\s+)?(shoal|bcs)\s+server\b/, ready: 'Shoal listening on', stop: 'at-end' },
  { command: /^npm run demo(?!.*--exit)/, ready: 'Next steps', stop: 'now' },
  { command: /^(npx\s+)?(shoal|bcs)\s+(log|l)\b.*\s-f\b/, ready: '', stop: 'now' },
  { command: /^(npx\s+)?shoal\s+agent\b/, ready: 'joined', stop: 'at-end' },
];

/** The name a file's code is saved under in the copy's root. */
const codeFile = (block: Block, ext: string): string =>
  `docs-test-${block.file.replace(/[^A-Za-z0-9]+/g, '-')}-${block.line}.${ext}`;

/**
 * One block as bash: a shell block as written (long-running commands through __background, `npm ci` done
 * already); a JavaScript block run from its file; the module of the file's TypeScript at its last block.
 */
function script(block: Block, lastTs: Block | undefined): string {
  const out = [`echo "::: ${block.file}:${block.line}" >&2`];
  if (block.kind === 'js') return [...out, `node "$DOCS_ROOT/${codeFile(block, 'cjs')}"`].join('\n');
  if (block.kind === 'ts') {
    if (block !== lastTs) return out.join('\n');
    const file = codeFile(block, 'ts');
    return [
      ...out,
      `node "$DOCS_ROOT/node_modules/typescript/bin/tsc" --strict --target es2022 --module nodenext --moduleResolution nodenext --skipLibCheck --outDir "$DOCS_ROOT/docs-test-out" "$DOCS_ROOT/${file}"`,
      `node "$DOCS_ROOT/docs-test-out/${file.replace(/\.ts$/, '.js')}"`,
    ].join('\n');
  }
  // A command continued with a trailing backslash is one command.
  for (const raw of block.code.replace(/\\\n\s*/g, ' ').split('\n')) {
    let line = raw.replace(/^npm ci && /, '');
    if (/^npm ci\s*(#.*)?$/.test(line)) line = ': npm ci (installed already)';
    // A trailing `&` (as a reader would type to keep the terminal) is what __background does anyway.
    const command = line
      .replace(/\s+#.*$/, '')
      .trim()
      .replace(/\s*&$/, '');
    const long = LONG_RUNNING.find((l) => l.command.test(command));
    if (long) line = `__background ${JSON.stringify(command)} ${JSON.stringify(long.ready)} ${long.stop}`;
    out.push(line);
  }
  return out.join('\n');
}

const PRELUDE = `set -euo pipefail
__pids=()
__stop() { for p in "\${__pids[@]}"; do kill -TERM -- -"$p" 2>/dev/null || true; done; wait || true; }
trap __stop EXIT
# Starts a command that keeps running ($1) and waits until it prints $2 (or, without $2, for 3 s); with
# $3 = now it is then stopped, else when the file ends.
__background() {
  local log i pid; log=$(mktemp)
  set -m; bash -c "$1" >"$log" 2>&1 & pid=$!; set +m
  for i in $(seq 1 3000); do
    if [ -n "$2" ] && grep -q "$2" "$log"; then break; fi
    # It ended on its own: its status is the command's; anything it left running in its group goes too.
    if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; kill -TERM -- -"$pid" 2>/dev/null || true; wait "$pid"; return $?; fi
    if [ -z "$2" ] && [ "$i" -ge 30 ]; then break; fi
    sleep 0.1
  done
  cat "$log"
  if [ -n "$2" ] && ! grep -q "$2" "$log"; then echo "docs-test: $1 did not print '$2' in 300 s" >&2; return 1; fi
  if [ "$3" = now ]; then kill -TERM -- -"$pid" 2>/dev/null || true; wait "$pid" || true; else __pids+=("$pid"); fi
}
`;

/** The tracked files of the checkout, as they are now, copied to `dir` (what a clone holds), plus node_modules. */
function freshCopy(dir: string): void {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    try {
      copyFileSync(join(ROOT, file), join(dir, file));
    } catch {
      // deleted in the working tree: a clone of the next commit would not have it either
    }
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  // What `npm ci` would have built (dist/ folders, the native helpers) is this checkout's build.
  const built = execFileSync(
    'git',
    ['ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--directory'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  )
    .split('\0')
    .filter((p) => p.startsWith('packages/') && (p.endsWith('/dist/') || p.includes('/native/')));
  for (const path of built) symlinkSync(join(ROOT, path), join(dir, path.replace(/\/$/, '')));
}

function run(
  bashScript: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn('bash', ['-c', bashScript], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      output += '\ndocs-test: timed out after 10 minutes\n';
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 600_000);
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test(
  'every code block of the docs runs as written, in order, in a fresh copy',
  { timeout: 1_200_000 },
  async (t) => {
    const blocks = docFiles().flatMap((file) => codeBlocks(file, readFileSync(join(ROOT, file), 'utf8')));
    assert.ok(blocks.filter((b) => b.kind === 'sh').length > 10, `found only ${blocks.length} blocks`);
    assert.ok(
      blocks.some((b) => b.kind === 'ts' && !b.skip),
      'no TypeScript block found',
    );
    for (const b of blocks.filter((b) => b.skip)) t.diagnostic(`not run: ${b.file}:${b.line}: ${b.skip}`);

    const base = mkdtempSync(join(tmpdir(), 'shoal-docs-test-'));
    try {
      const byFile = new Map<string, Block[]>();
      for (const b of blocks) if (!b.skip) byFile.set(b.file, [...(byFile.get(b.file) ?? []), b]);
      for (const [file, fileBlocks] of byFile) {
        // Each file as a reader who starts with it would run it: a fresh copy and a home of its own.
        const dir = join(base, file.replace(/[^A-Za-z0-9]+/g, '-'));
        const repo = join(dir, 'shoal');
        freshCopy(repo);
        const home = join(dir, 'home');
        mkdirSync(home);
        const env: NodeJS.ProcessEnv = {};
        for (const [key, value] of Object.entries(process.env))
          if (!key.startsWith('SHOAL_') && !key.startsWith('npm_') && key !== 'DEBUG') env[key] = value;
        Object.assign(env, { HOME: home, NO_COLOR: '1', DOCS_ROOT: repo });
        const ts = fileBlocks.filter((b) => b.kind === 'ts');
        const lastTs = ts[ts.length - 1];
        if (lastTs) writeFileSync(join(repo, codeFile(lastTs, 'ts')), ts.map((b) => b.code).join('\n'));
        for (const b of fileBlocks.filter((b) => b.kind === 'js'))
          writeFileSync(join(repo, codeFile(b, 'cjs')), b.code);
        const text = `${PRELUDE}\n${fileBlocks.map((b) => script(b, lastTs)).join('\n')}\n`;
        const result = await run(text, repo, env);
        const failedAt = [...result.output.matchAll(/^::: (\S+)$/gm)].pop()?.[1] ?? file;
        assert.equal(
          result.code,
          0,
          `a documented command failed in ${failedAt}:\n${result.output.slice(-4000)}`,
        );
      }
    } finally {
      // The servers are stopped by then; their data dirs go with the copies.
      rmSync(base, { recursive: true, force: true });
    }
  },
);
