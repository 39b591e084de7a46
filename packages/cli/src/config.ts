/**
 * The user's CLI configuration, written by `shoal login` and `shoal config`: `<dir>/config.json`
 * with mode 0600 (it holds a secret), `<dir>` = `$SHOAL_CONFIG_DIR` or `~/.shoal`.
 */
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError, type CliContext } from './context.js';

/** What config.json holds; every field optional. */
export interface CliConfig {
  Endpoint?: string;
  AccessKeyId?: string;
  AccessKeySecret?: string;
  /** Default `--osspath` of `shoal sub`. */
  OssPath?: string;
  /** Working folder of `shoal oss` (`oss pwd`). */
  OssCwd?: string;
}

const KEYS = ['Endpoint', 'AccessKeyId', 'AccessKeySecret', 'OssPath', 'OssCwd'] as const;

/** The directory of config.json. */
export function configDir(ctx: CliContext): string {
  return ctx.env['SHOAL_CONFIG_DIR'] || join(ctx.homeDir, '.shoal');
}

export function configFile(ctx: CliContext): string {
  return join(configDir(ctx), 'config.json');
}

/** The saved configuration; {} when there is none. */
export async function loadConfig(ctx: CliContext): Promise<CliConfig> {
  const file = configFile(ctx);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${file} is not valid JSON: fix or delete it (shoal logout)`);
  }
  const out: CliConfig = {};
  if (parsed && typeof parsed === 'object') {
    for (const key of KEYS) {
      const value = (parsed as Record<string, unknown>)[key];
      if (typeof value === 'string' && value !== '') out[key] = value;
    }
  }
  return out;
}

/** Writes the configuration atomically, readable by the owner only. */
export async function saveConfig(ctx: CliContext, config: CliConfig): Promise<string> {
  const file = configFile(ctx);
  await mkdir(configDir(ctx), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return file;
}

/** Forgets the saved keys and endpoint (other settings stay); true when something was removed. */
export async function clearLogin(ctx: CliContext): Promise<boolean> {
  const config = await loadConfig(ctx);
  if (!config.AccessKeyId && !config.Endpoint && !config.AccessKeySecret) return false;
  const { Endpoint: _e, AccessKeyId: _a, AccessKeySecret: _s, ...rest } = config;
  if (Object.keys(rest).length === 0) await rm(configFile(ctx), { force: true });
  else await saveConfig(ctx, rest);
  return true;
}
