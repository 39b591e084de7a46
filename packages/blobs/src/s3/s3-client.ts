import { S3Client } from '@aws-sdk/client-s3';

/** Where an S3-compatible service is and how to sign for it; the entry point fills these from its env. */
export interface S3ConnectionOptions {
  /** e.g. `http://127.0.0.1:9000` or `https://oss-cn-hangzhou.aliyuncs.com`. */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * An S3 client that works against S3-compatible services, not just AWS: path-style addressing
 * (no per-bucket DNS names), and checksums only where the protocol requires them, since the
 * SDK's default CRC32 trailers are rejected by several compatible services.
 */
export function createS3Client(options: S3ConnectionOptions): S3Client {
  return new S3Client({
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: true,
    credentials: {
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
      ...(options.sessionToken === undefined ? {} : { sessionToken: options.sessionToken }),
    },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
