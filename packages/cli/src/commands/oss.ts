/**
 * `shoal oss` (`o`): objects through the server's /objects routes (the server checks ownership; no
 * store credentials here). Paths are `oss://bucket/key` URIs, or relative to the folder `oss pwd` shows.
 */
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ShoalClient } from '@shoal/sdk';
import { loadConfig } from '../config.js';
import { confirmed } from '../confirm.js';
import { openSession, withConnectionOptions, type ConnectionFlags } from '../connection.js';
import { CliError, type CliContext, type CommandRegistrar } from '../context.js';
import { ByteBar, formatBytes } from '../format/bar.js';
import { renderTable } from '../format/table.js';
import { relativeTime } from '../format/time.js';

const DEFAULT_CWD = 'oss://shoal/';
const isUri = (p: string): boolean => /^(oss|s3):\/\//.test(p);

async function ossCwd(ctx: CliContext): Promise<string> {
  const config = await loadConfig(ctx);
  return config.OssCwd ?? config.OssPath ?? DEFAULT_CWD;
}

async function toUri(path: string, ctx: CliContext): Promise<string> {
  if (isUri(path)) return path;
  const cwd = await ossCwd(ctx);
  return `${cwd.endsWith('/') ? cwd : `${cwd}/`}${path.replace(/^\.?\/+/, '')}`;
}

async function localFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new CliError(`no such file or folder: ${path}`);
  if (!info.isDirectory()) return [path];
  const out: string[] = [];
  for (const entry of await readdir(path, { withFileTypes: true }))
    out.push(...(await localFiles(join(path, entry.name))));
  return out.sort();
}

async function upload(client: ShoalClient, ctx: CliContext, local: string, target: string): Promise<void> {
  const source = resolve(ctx.cwd, local);
  const files = await localFiles(source);
  const isDir = (await stat(source)).isDirectory();
  for (const file of files) {
    const uri =
      isDir || target.endsWith('/')
        ? `${target.replace(/\/?$/, '/')}${isDir ? relative(source, file).split('\\').join('/') : basename(file)}`
        : target;
    const bar = new ByteBar((t) => ctx.stderr.write(t), Boolean(ctx.stderr.isTTY), basename(file));
    let size = 0;
    await client.uploadFile(uri, file, {
      onProgress: (p) => {
        size = p.totalBytes ?? 0;
        bar.update(p.loadedBytes, p.totalBytes);
      },
    });
    bar.done();
    ctx.stdout.write(`Uploaded ${file} -> ${uri} (${formatBytes(size)})\n`);
  }
}

async function objectKeysUnder(client: ShoalClient, prefix: string): Promise<string[]> {
  const bucket = /^(?:oss|s3):\/\/([^/]+)\//.exec(prefix)?.[0] ?? prefix;
  const keys: string[] = [];
  for await (const object of client.objects(prefix)) keys.push(`${bucket}${object.Key}`);
  return keys;
}

async function download(
  client: ShoalClient,
  ctx: CliContext,
  uri: string,
  local: string | undefined,
): Promise<void> {
  const many = uri.endsWith('/');
  const uris = many ? await objectKeysUnder(client, uri) : [uri];
  if (many && uris.length === 0) throw new CliError(`no objects under ${uri}`);
  for (const one of uris) {
    const name = many ? one.slice(uri.length) : basename(one);
    const base = resolve(ctx.cwd, local ?? '.');
    const isDir =
      many ||
      local === undefined ||
      local.endsWith('/') ||
      (await stat(base).catch(() => undefined))?.isDirectory();
    const target = isDir ? join(base, name) : base;
    const bar = new ByteBar((t) => ctx.stderr.write(t), Boolean(ctx.stderr.isTTY), basename(target));
    const bytes = await client.downloadObject(one, {
      onProgress: (p) => bar.update(p.loadedBytes, p.totalBytes),
    });
    bar.done();
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes);
    ctx.stdout.write(`Downloaded ${one} -> ${target} (${formatBytes(bytes.byteLength)})\n`);
  }
}

type Flags = ConnectionFlags & { json?: boolean; recursive?: boolean; yes?: boolean };

export const registerOssCommands: CommandRegistrar = (program, ctx, exit) => {
  const oss = program
    .command('oss')
    .alias('o')
    .description("objects in the server's store: ls, cat, cp, up, down, del, pwd");
  const sub = (name: string, aliases: string[], summary: string): Command =>
    withConnectionOptions(oss.command(name).aliases(aliases).description(summary));

  oss
    .command('pwd')
    .description('the folder relative paths start from')
    .action(async () => {
      ctx.stdout.write(`${await ossCwd(ctx)}\n`);
      exit.code = 0;
    });

  sub('ls', ['list'], 'list a folder (one level; -r: everything under it)')
    .argument('[path]', 'oss://bucket/prefix/ (default: pwd)')
    .option('-r, --recursive', 'list every object under the prefix')
    .option('--json', 'print JSON')
    .action(async (path: string | undefined, flags: Flags) => {
      const uri = await toUri(path ?? '', ctx);
      const { client } = await openSession(flags, ctx);
      const page = flags.recursive ? undefined : await client.listObjects(uri, { delimiter: '/' });
      const items = page ? page.Items : [];
      if (!page) for await (const o of client.objects(uri)) items.push(o);
      const prefixes = page?.Prefixes ?? [];
      if (flags.json) {
        ctx.stdout.write(`${JSON.stringify({ Prefixes: prefixes, Items: items }, null, 2)}\n`);
      } else if (items.length + prefixes.length === 0) {
        ctx.stdout.write(`Nothing under ${uri}\n`);
      } else {
        const now = ctx.now();
        const rows = [
          ...prefixes.map((p) => [p, '-', '-']),
          ...items.map((o) => [o.Key, formatBytes(o.Size), relativeTime(o.LastModified, now)]),
        ];
        ctx.stdout.write(renderTable(['Key', 'Size', 'Modified'], rows));
      }
      exit.code = 0;
    });

  sub('cat', [], 'print objects')
    .argument('<paths...>', 'object URIs')
    .action(async (paths: string[], flags: Flags) => {
      const { client } = await openSession(flags, ctx);
      for (const path of paths) ctx.stdout.write(await client.getObject(await toUri(path, ctx)));
      exit.code = 0;
    });

  sub('cp', ['copy'], 'copy: local -> oss (upload), oss -> local (download) or oss -> oss')
    .argument('<src>')
    .argument('<dst>')
    .action(async (src: string, dst: string, flags: Flags) => {
      const { client } = await openSession(flags, ctx);
      if (isUri(src) && isUri(dst)) {
        await client.putObject(dst, await client.getObject(src));
        ctx.stdout.write(`Copied ${src} -> ${dst}\n`);
      } else if (isUri(dst)) await upload(client, ctx, src, dst);
      else if (isUri(src)) await download(client, ctx, src, dst);
      else throw new CliError('one side of cp must be an oss:// URI');
      exit.code = 0;
    });

  sub('up', ['upload'], 'upload a file or a folder (with a progress bar)')
    .argument('<local>')
    .argument('<path>', 'object URI, or a folder URI ending in /')
    .option('-p, --part', 'accepted for bcs compatibility (uploads are streamed)')
    .action(async (local: string, path: string, flags: Flags) => {
      await upload((await openSession(flags, ctx)).client, ctx, local, await toUri(path, ctx));
      exit.code = 0;
    });

  sub('down', ['download'], 'download an object, or every object under a folder URI ending in /')
    .argument('<path>')
    .argument('[local]', 'file or folder (default: current folder)')
    .action(async (path: string, local: string | undefined, flags: Flags) => {
      await download((await openSession(flags, ctx)).client, ctx, await toUri(path, ctx), local);
      exit.code = 0;
    });

  sub('del', ['delete', 'rm'], 'delete an object, or every object under a folder URI ending in /')
    .argument('<path>')
    .option('-y, --yes', 'do not ask for confirmation (asked only on a terminal, for a folder)')
    .action(async (path: string, flags: Flags & { yes?: boolean }) => {
      const uri = await toUri(path, ctx);
      const { client } = await openSession(flags, ctx);
      const uris = uri.endsWith('/') ? await objectKeysUnder(client, uri) : [uri];
      if (uri.endsWith('/')) {
        const shown = uris.slice(0, 10).map((u) => `  ${u}`);
        if (uris.length > shown.length) shown.push(`  ... and ${uris.length - shown.length} more`);
        const what = `Delete ${uris.length === 1 ? 'this object' : `these ${uris.length} objects`} under ${uri}?\n${shown.join('\n')}`;
        if (!(await confirmed(ctx, what, flags.yes))) {
          exit.code = 1;
          return;
        }
      }
      for (const one of uris) {
        await client.deleteObject(one);
        ctx.stdout.write(`Deleted ${one}\n`);
      }
      exit.code = 0;
    });
};
