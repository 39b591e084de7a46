/**
 * A Docker engine the worker runs Docker images with, through the docker CLI (so any engine the CLI can
 * reach works: a local dockerd, rootless Docker, a remote DOCKER_HOST). Images come from the engine, are
 * pulled, or are loaded once from a `docker save` archive in object storage (seed 002's registry on OSS).
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { isShoalError, parseObjectUri, type BlobStore, type TaskImage } from '@shoal/core';
import { AttemptFailure } from '../runner/results.js';

const run = promisify(execFile);

export interface DockerOptions {
  /** The docker CLI; default `docker` from PATH. */
  readonly cli?: string;
  /** The engine's address, as DOCKER_HOST takes it (`unix:///var/run/docker.sock`). */
  readonly host: string;
  /** `docker run --network` when the task may use the network: `bridge` (default), `host`, or a name. */
  readonly network?: string;
}

export class DockerEngine {
  readonly cli: string;
  readonly network: string;
  /** Archives already loaded (by URI and version): the reference they provide. */
  private readonly loaded = new Map<string, Promise<void>>();

  constructor(
    readonly options: DockerOptions,
    private readonly blobs: BlobStore,
    private readonly scratch: string,
  ) {
    this.cli = options.cli ?? 'docker';
    this.network = options.network ?? 'bridge';
  }

  /** Arguments that reach this engine (before the docker subcommand). */
  get base(): string[] {
    return ['-H', this.options.host];
  }

  /** The engine's version, or why it cannot be used. */
  async probe(): Promise<{ ok: boolean; reason: string }> {
    try {
      const { stdout } = await this.docker(['version', '--format', '{{.Server.Version}}'], 15_000);
      return { ok: true, reason: `Docker engine ${stdout.trim()} at ${this.options.host}` };
    } catch (err) {
      return { ok: false, reason: `no Docker engine at ${this.options.host}: ${messageOf(err)}` };
    }
  }

  /** Makes the task's image present in the engine: loaded from its archive once, or pulled. */
  async ensureImage(image: TaskImage): Promise<void> {
    if (image.archive) {
      const info = await this.blobs.headObject(parseObjectUri(image.archive)).catch((err: unknown) => {
        throw imageFailure(image.archive, err);
      });
      if (!info)
        throw new AttemptFailure('ImageUnavailable', `Docker image archive ${image.archive} not found`);
      const key = `${image.archive}\u0000${info.etag ?? ''}\u0000${info.size}\u0000${info.lastModifiedMs}`;
      let pending = this.loaded.get(key);
      if (!pending) {
        pending = this.load(image.archive).catch((err: unknown) => {
          this.loaded.delete(key);
          throw err;
        });
        this.loaded.set(key, pending);
      }
      await pending;
      if (!(await this.has(image.source)))
        throw new AttemptFailure(
          'ImageUnavailable',
          `Docker image archive ${image.archive} does not hold the image ${image.source}`,
        );
      return;
    }
    if (await this.has(image.source)) return;
    try {
      await this.docker(['pull', '--quiet', image.source], 30 * 60_000);
    } catch (err) {
      throw new AttemptFailure(
        'ImageUnavailable',
        `Docker image ${image.source} could not be pulled: ${messageOf(err)}`,
      );
    }
  }

  /** Removes containers a previous agent process left (by its worker label). */
  async removeLeftovers(label: string): Promise<void> {
    const { stdout } = await this.docker(['ps', '-aq', '--filter', `label=${label}`], 30_000).catch(() => ({
      stdout: '',
    }));
    const ids = stdout.split('\n').filter(Boolean);
    if (ids.length) await this.docker(['rm', '-f', ...ids], 60_000).catch(() => undefined);
  }

  /**
   * The container's end as the engine saw it; undefined when it is gone. `error` is the engine's own:
   * the command could not be started (not found, not executable, ...).
   */
  async inspect(name: string): Promise<{ oomKilled: boolean; exitCode: number; error: string } | undefined> {
    try {
      const { stdout } = await this.docker(
        ['inspect', '--format', '{{.State.OOMKilled}} {{.State.ExitCode}} {{.State.Error}}', name],
        30_000,
      );
      const [oom = '', code = '', ...error] = stdout.trim().split(' ');
      return { oomKilled: oom === 'true', exitCode: Number(code), error: error.join(' ') };
    } catch {
      return undefined;
    }
  }

  /** Signals a container's processes (SIGTERM lets them finish; SIGKILL ends them all at once). */
  async kill(name: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    await this.docker(['kill', '--signal', signal, name], 30_000).catch(() => undefined);
  }

  async remove(name: string): Promise<void> {
    await this.docker(['rm', '-f', name], 60_000).catch(() => undefined);
  }

  private async has(ref: string): Promise<boolean> {
    return this.docker(['image', 'inspect', '--format', '{{.Id}}', ref], 30_000).then(
      () => true,
      () => false,
    );
  }

  private async load(archive: string): Promise<void> {
    await mkdir(this.scratch, { recursive: true, mode: 0o700 });
    const file = path.join(this.scratch, `${randomBytes(8).toString('hex')}.tar`);
    try {
      await this.blobs.downloadFile(parseObjectUri(archive), file).catch((err: unknown) => {
        throw imageFailure(archive, err);
      });
      await this.docker(['load', '--quiet', '--input', file], 30 * 60_000).catch((err: unknown) => {
        throw new AttemptFailure(
          'ImageUnavailable',
          `Docker image archive ${archive} could not be loaded: ${messageOf(err)}`,
        );
      });
    } finally {
      await rm(file, { force: true });
    }
  }

  private docker(args: string[], timeout: number): Promise<{ stdout: string; stderr: string }> {
    // Only the engine's address and the CLI's own settings: none of the agent's secrets.
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.scratch,
      DOCKER_CONFIG: this.scratch,
    };
    return run(this.cli, [...this.base, ...args], { timeout, env, maxBuffer: 16 << 20 });
  }
}

/** A container name for an attempt: Docker's alphabet, unique per worker and attempt. */
export function containerName(workerId: string, attemptId: string): string {
  const hash = createHash('sha1').update(`${workerId}\u0000${attemptId}`).digest('hex').slice(0, 16);
  const readable = attemptId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80);
  return `shoal-${readable}-${hash}`;
}

function messageOf(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(err)).split('\n').slice(-3).join(' ');
}

function imageFailure(uri: string, err: unknown): AttemptFailure {
  if (isShoalError(err) && err.code === 'InvalidResource.NotFound')
    return new AttemptFailure('ImageUnavailable', `Docker image archive ${uri} not found`);
  return new AttemptFailure(
    'ImageUnavailable',
    `Docker image archive ${uri} could not be downloaded: ${messageOf(err)}`,
  );
}
