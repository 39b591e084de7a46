/**
 * Recognizers for the S3 errors the adapter turns into domain outcomes. Compatible services differ
 * in error names (HEAD responses carry no body, so only the status survives), so each check
 * accepts the name or the HTTP status.
 */

interface S3ErrorShape {
  readonly name?: unknown;
  readonly Code?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

function shape(err: unknown): S3ErrorShape {
  return typeof err === 'object' && err !== null ? (err as S3ErrorShape) : {};
}

function statusOf(err: unknown): number | undefined {
  const status = shape(err).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function nameOf(err: unknown): string | undefined {
  const s = shape(err);
  if (typeof s.name === 'string' && s.name !== 'Error' && s.name !== 'S3ServiceException') return s.name;
  return typeof s.Code === 'string' ? s.Code : undefined;
}

export function isNoSuchBucket(err: unknown): boolean {
  return nameOf(err) === 'NoSuchBucket';
}

/** The object, or its bucket, does not exist. */
export function isMissing(err: unknown): boolean {
  const name = nameOf(err);
  return name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket' || statusOf(err) === 404;
}

export function isBucketAlreadyMine(err: unknown): boolean {
  const name = nameOf(err);
  return name === 'BucketAlreadyOwnedByYou' || name === 'BucketAlreadyExists';
}

export function isInvalidRange(err: unknown): boolean {
  return nameOf(err) === 'InvalidRange' || statusOf(err) === 416;
}
