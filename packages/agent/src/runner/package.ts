import { readdir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { isShoalError, objectUriProblem, parseObjectUri, type BlobStore } from '@shoal/core';
import { isWithin } from './mappings.js';
import { AttemptFailure } from './results.js';
import { ExtractError, extractTar } from './tar-extract.js';
import { extractZip } from './zip-extract.js';

/**
 * Downloads the task's package (PackagePath) and unpacks it into the working directory. `.zip` packages
 * go through a scratch file (zip needs random access); everything else is streamed as tar, gzip or not.
 */
export async function stagePackage(
  blobs: BlobStore,
  packagePath: string,
  workDir: string,
  scratchDir: () => Promise<string>,
): Promise<void> {
  const problem = objectUriProblem(packagePath);
  if (problem)
    throw new AttemptFailure(
      'PackageDownloadFailed',
      `package path ${JSON.stringify(packagePath)} is invalid: ${problem}`,
    );
  const uri = parseObjectUri(packagePath);
  if (uri.key === '' || uri.key.endsWith('/')) {
    throw new AttemptFailure(
      'PackageDownloadFailed',
      `package path ${packagePath} names a directory, not a .tar.gz, .tgz or .zip object`,
    );
  }
  if (uri.key.toLowerCase().endsWith('.zip')) {
    const file = path.join(await scratchDir(), 'package.zip');
    await download(() => blobs.downloadFile(uri, file), packagePath);
    await extract(() => extractZip(file, workDir), packagePath);
  } else {
    const stream = await download(() => blobs.getObject(uri), packagePath);
    await extract(() => extractTar(stream, workDir), packagePath);
  }
  await extract(() => refuseLinksLeaving(workDir), packagePath);
}

/**
 * Every symlink of the unpacked package must resolve inside the working directory. The archive guard
 * checks each link as it is made, but only the finished tree shows where links lead once later entries
 * are in place; staging runs as root and follows links, so one leading out must refuse the package.
 * Links are never followed by the walk. A dangling link is allowed: nothing can be reached through it,
 * and staging refuses to write through a link it cannot resolve.
 */
export async function refuseLinksLeaving(workDir: string): Promise<void> {
  const root = await realpath(workDir);
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(path.join(workDir, rel), { withFileTypes: true })) {
      const name = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) await walk(name);
      else if (entry.isSymbolicLink()) await refuseLinkLeaving(workDir, root, name);
    }
  };
  await walk('');
}

async function refuseLinkLeaving(workDir: string, root: string, name: string): Promise<void> {
  const link = path.join(workDir, name);
  let real: string;
  try {
    real = await realpath(link);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    const target = await readlink(link).catch(() => '?');
    throw new Error(
      `symlink ${JSON.stringify(name)} -> ${JSON.stringify(target)} cannot be resolved: ${(err as Error).message}`,
    );
  }
  if (!isWithin(real, root)) {
    const target = await readlink(link).catch(() => '?');
    throw new Error(
      `symlink ${JSON.stringify(name)} -> ${JSON.stringify(target)} leads to ${real}, outside the working directory`,
    );
  }
}

async function download<T>(fn: () => Promise<T>, packagePath: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw downloadFailure(err, packagePath);
  }
}

async function extract(fn: () => Promise<void>, packagePath: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ExtractError && err.stage === 'source') throw downloadFailure(err, packagePath);
    const message = err instanceof Error ? err.message : String(err);
    throw new AttemptFailure(
      'PackageExtractFailed',
      `package ${packagePath} could not be unpacked: ${message}`,
    );
  }
}

function downloadFailure(err: unknown, packagePath: string): AttemptFailure {
  if (isShoalError(err) && err.code === 'InvalidResource.NotFound') {
    return new AttemptFailure('PackageDownloadFailed', `package ${packagePath} not found`);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new AttemptFailure(
    'PackageDownloadFailed',
    `package ${packagePath} could not be downloaded: ${message}`,
  );
}
