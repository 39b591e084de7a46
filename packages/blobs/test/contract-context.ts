import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { isShoalError, type BlobStore, type ErrorCode, type ObjectUri } from '@shoal/core';

/** What a backend's test file hands the contract suite. */
export interface ContractFixture {
  readonly store: BlobStore;
  cleanup(): Promise<void>;
  /**
   * Stores an object behind the store's back, with a key the store itself would refuse
   * (e.g. `p/../../x`). Only backends that can hold such keys provide it.
   */
  plantObject?(bucket: string, key: string, body: string): Promise<void>;
}

/** Shared state of one contract run: the fixture, fresh buckets, and a scratch directory. */
export class ContractContext {
  #fixture: ContractFixture | undefined;
  #scratch: string | undefined;
  #buckets = 0;
  readonly #run = randomBytes(3).toString('hex');

  async setUp(makeStore: () => Promise<ContractFixture>): Promise<void> {
    this.#fixture = await makeStore();
    this.#scratch = await mkdtemp(path.join(os.tmpdir(), 'shoal-blobs-contract-'));
  }

  async tearDown(): Promise<void> {
    await this.#fixture?.store.close?.();
    await this.#fixture?.cleanup();
    if (this.#scratch !== undefined) await rm(this.#scratch, { recursive: true, force: true });
  }

  get fixture(): ContractFixture {
    assert.ok(this.#fixture, 'contract fixture not set up');
    return this.#fixture;
  }

  get store(): BlobStore {
    return this.fixture.store;
  }

  /** A bucket no other test uses, so tests stay independent of order. */
  bucket(): string {
    this.#buckets += 1;
    return `contract-${this.#run}-${this.#buckets}`;
  }

  /** A fresh directory under the run's scratch directory. */
  async dir(label: string): Promise<string> {
    assert.ok(this.#scratch, 'contract scratch dir not set up');
    return mkdtemp(path.join(this.#scratch, `${label}-`));
  }
}

export function uri(bucket: string, key: string, scheme: 'oss' | 's3' = 'oss'): ObjectUri {
  return { scheme, bucket, key };
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function rejectsWithCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isShoalError(err), `expected a ShoalError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}
