/**
 * Images: the environment a task runs in. Three kinds:
 * - System: the worker's own OS, in its sandbox. BatchCompute's public image ids (`img-ubuntu`, ...) name it.
 * - RootFs: a root-filesystem archive in object storage (`.tar`, `.tar.gz`, `.tgz`), unpacked once per
 *   worker, read-only with a writable layer per attempt.
 * - Docker: a Docker image, run by the worker's Docker engine; loaded from an archive in object storage
 *   (`docker save` output) when one is given.
 * Users register RootFs and Docker images with `POST /images`; a task names one by `AutoCluster.ImageId`,
 * or asks for Docker directly (`Command.Docker.Image`, or the `BATCH_COMPUTE_DOCKER_*` variables).
 */
import { invalidParameter, missingParameter } from './errors.js';
import { objectUriProblem } from './oss-uri.js';

export type ImageKind = 'System' | 'RootFs' | 'Docker';

/** An image as an attempt needs it: resolved when the job is accepted, so later changes cannot reach it. */
export interface TaskImage {
  readonly id: string;
  readonly kind: ImageKind;
  /** RootFs: the archive's URI. Docker: the image reference. System: ''. */
  readonly source: string;
  /** Docker only: a `docker save` archive in object storage to load first, or ''. */
  readonly archive: string;
}

export interface ImageRecord {
  readonly id: string;
  readonly ownerId: number;
  readonly name: string;
  readonly description: string;
  readonly platform: string;
  readonly kind: 'RootFs' | 'Docker';
  readonly source: string;
  readonly archive: string;
  /** As submitted (BatchCompute's `EcsImageId`), for `GET /images`. */
  readonly ecsImageId: string;
  readonly createdAtUs: number;
}

/** The validated body of `POST /images`. */
export type NewImage = Omit<ImageRecord, 'id' | 'ownerId' | 'createdAtUs'>;

/** BatchCompute's public images, and what they mean here: the worker's own OS. */
export const SYSTEM_IMAGES: readonly { id: string; name: string }[] = Object.freeze([
  { id: 'img-ubuntu', name: 'Ubuntu (the worker OS)' },
  { id: 'img-ubuntu-vpc', name: 'Ubuntu, VPC (the worker OS)' },
  { id: 'img-centos', name: 'CentOS (the worker OS)' },
  { id: 'img-centos-vpc', name: 'CentOS, VPC (the worker OS)' },
  { id: 'img-debian', name: 'Debian (the worker OS)' },
  { id: 'img-alinux', name: 'Alibaba Cloud Linux (the worker OS)' },
]);

export const DEFAULT_IMAGE_ID = 'img-ubuntu';

export function systemImage(id: string): TaskImage | undefined {
  return SYSTEM_IMAGES.some((i) => i.id === id) ? { id, kind: 'System', source: '', archive: '' } : undefined;
}

export const IMAGE_ID = /^img-[a-z0-9]{20}$/;

/**
 * A Docker image reference: `[host[:port]/]path[:tag][@sha256:digest]`, lower-case path components. It is
 * passed to the Docker CLI as an argument, so it may never start with '-'.
 */
const DOCKER_REF =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\.[a-z0-9-]+)*(?::[0-9]{1,5})?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

export function dockerReferenceProblem(ref: string): string | undefined {
  if (ref.length > 512) return 'must be at most 512 characters';
  return DOCKER_REF.test(ref)
    ? undefined
    : 'must be a Docker image reference such as ubuntu:22.04 or localhost:5000/team/app:v1';
}

const ARCHIVE = /\.(tar|tar\.gz|tgz)$/i;

function archiveUri(value: string, field: string): string {
  const problem = objectUriProblem(value);
  if (problem) throw invalidParameter(field, value, `must be an oss:// or s3:// object: ${problem}`);
  if (!ARCHIVE.test(value)) throw invalidParameter(field, value, 'must name a .tar, .tar.gz or .tgz archive');
  return value;
}

function str(body: Record<string, unknown>, key: string, max: number): string {
  const v = body[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw invalidParameter(key, v, 'must be a string');
  if (v.length > max) throw invalidParameter(key, v, `must be at most ${max} characters`);
  return v;
}

/**
 * Reads an ImageDescription. The official clients send `Name`, `Description`, `Platform` and `EcsImageId`,
 * so the image's source can come in `EcsImageId`: `oss://.../rootfs.tar.gz` (a root filesystem) or
 * `docker://<reference>`. Shoal's own fields say the same explicitly: `RootFsPath`, or `Docker: {Image,
 * ArchivePath}`.
 */
export function readImageDescription(body: unknown): NewImage {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalidParameter('ImageDescription', body, 'must be a JSON object');
  const b = body as Record<string, unknown>;
  const name = str(b, 'Name', 100);
  if (name === '') throw missingParameter('Name');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name))
    throw invalidParameter('Name', name, "must be letters, digits, '_', '.' and '-'");
  const description = str(b, 'Description', 1000);
  const platform = str(b, 'Platform', 20) || 'Linux';
  if (platform !== 'Linux')
    throw invalidParameter('Platform', platform, 'must be Linux (the only platform Shoal runs)');
  const ecsImageId = str(b, 'EcsImageId', 1024);
  const rootFsPath = str(b, 'RootFsPath', 1024);
  const docker = b.Docker;
  if (docker !== undefined && docker !== null && (typeof docker !== 'object' || Array.isArray(docker)))
    throw invalidParameter('Docker', docker, 'must be an object {Image, ArchivePath}');
  const dockerImage = docker ? str(docker as Record<string, unknown>, 'Image', 512) : '';
  const dockerArchive = docker ? str(docker as Record<string, unknown>, 'ArchivePath', 1024) : '';

  if (rootFsPath && dockerImage)
    throw invalidParameter('Docker', docker, 'give either RootFsPath or Docker, not both');
  // The official clients always send EcsImageId: it is the source, unless a Shoal field says it.
  const base = { name, description, platform };
  if (rootFsPath || (!dockerImage && !ecsImageId.startsWith('docker://'))) {
    const field = rootFsPath ? 'RootFsPath' : 'EcsImageId';
    if (!rootFsPath && ecsImageId === '')
      throw missingParameter('EcsImageId (an oss:// root filesystem archive, or docker://<image>)');
    const source = archiveUri(rootFsPath || ecsImageId, field);
    return { ...base, kind: 'RootFs', source, archive: '', ecsImageId: ecsImageId || source };
  }
  const ref = dockerImage || ecsImageId.slice('docker://'.length);
  const field = dockerImage ? 'Docker.Image' : 'EcsImageId';
  const problem = dockerReferenceProblem(ref);
  if (problem) throw invalidParameter(field, ref, problem);
  const archive = dockerArchive ? archiveUri(dockerArchive, 'Docker.ArchivePath') : '';
  return { ...base, kind: 'Docker', source: ref, archive, ecsImageId: ecsImageId || `docker://${ref}` };
}

/**
 * Where a task asks for Docker by itself (seed 002): `BATCH_COMPUTE_DOCKER_IMAGE`, with
 * `BATCH_COMPUTE_DOCKER_REGISTRY_OSS_PATH` naming a folder of saved images (`<folder><name>.tar`, `name`
 * the reference's last path component without its tag), or the Python SDK's `Command.Docker.Image`.
 */
export function taskDockerImage(
  envVars: Readonly<Record<string, string>>,
  commandDocker: string,
): { image: string; archive: string } | undefined {
  const image = envVars.BATCH_COMPUTE_DOCKER_IMAGE || commandDocker;
  if (!image) return undefined;
  const folder = envVars.BATCH_COMPUTE_DOCKER_REGISTRY_OSS_PATH ?? '';
  if (!folder) return { image, archive: '' };
  const last = image.split('/').pop() ?? image;
  const name = last.split('@')[0]!.split(':')[0]!;
  return { image, archive: `${folder.endsWith('/') ? folder : `${folder}/`}${name}.tar` };
}
