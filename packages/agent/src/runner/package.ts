import path from 'node:path';
import { isShoalError, objectUriProblem, parseObjectUri, type BlobStore } from '@shoal/core';
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
