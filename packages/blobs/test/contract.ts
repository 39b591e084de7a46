import { after, before, describe } from 'node:test';
import { ContractContext, type ContractFixture } from './contract-context.js';
import { listingCases } from './contract-listing.js';
import { objectCases } from './contract-objects.js';
import { transferCases } from './contract-transfer.js';

export type { ContractFixture } from './contract-context.js';

/**
 * The BlobStore contract: every adapter must pass these cases unchanged. `makeStore` is called
 * once per run, after any outer `before` hooks (so a server started there is up).
 */
export function blobStoreContract(name: string, makeStore: () => Promise<ContractFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    const ctx = new ContractContext();
    before(() => ctx.setUp(makeStore));
    after(() => ctx.tearDown());
    describe('objects', () => objectCases(ctx));
    describe('listing', () => listingCases(ctx));
    describe('transfers', () => transferCases(ctx));
  });
}
