/**
 * Identity and the admin API (Shoal additions): whoami for any key; users and access keys for the
 * admin key only (others get 403 `Forbidden.AdminOnly`).
 */
import type { WireList } from '@shoal/core';
import { ClientBase } from './base.js';
import { pages, type ListOptions } from './paging.js';
import { resourcePath } from './query.js';
import type {
  WireAccessKey,
  WireAccessKeySecret,
  WireUser,
  WireUserCreated,
  WireWhoAmI,
} from './wire-extra.js';

/** Whoami and the admin operations; use {@link ShoalClient}. */
export class AdminClient extends ClientBase {
  /** Whose key signs this client's requests. @example const { Name, Admin } = await client.whoami() */
  whoami(): Promise<WireWhoAmI> {
    return this.json({ method: 'GET', path: '/whoami' });
  }

  /** Creates a user (admin only). @example const { OwnerId } = await admin.createUser('alice') */
  createUser(name: string): Promise<WireUserCreated> {
    return this.json({ method: 'POST', path: '/users', json: { Name: name } });
  }

  /** One page of users (admin only). @example const { Items } = await admin.listUsers({ maxItemCount: 50 }) */
  listUsers(options: Pick<ListOptions, 'marker' | 'maxItemCount'> = {}): Promise<WireList<WireUser>> {
    return this.list({
      method: 'GET',
      path: '/users',
      query: { Marker: options.marker, MaxItemCount: options.maxItemCount },
    });
  }

  /** Every user (admin only). @example for await (const user of admin.users()) console.log(user.Name, user.KeyCount) */
  users(): AsyncIterable<WireUser> {
    return pages((marker) => this.listUsers({ marker }));
  }

  /** Deletes a user and its keys; its jobs stay (admin only). @example await admin.deleteUser('alice') */
  deleteUser(name: string): Promise<void> {
    return this.send({ method: 'DELETE', path: resourcePath('users', name) });
  }

  /**
   * Creates an access key for a user (admin only); the secret is shown this once.
   * @example const { AccessKeyId, AccessKeySecret } = await admin.createAccessKey('alice')
   */
  createAccessKey(user: string): Promise<WireAccessKeySecret> {
    return this.json({ method: 'POST', path: resourcePath('users', user, 'keys') });
  }

  /** A user's keys, without secrets (admin only). @example const { Items } = await admin.listAccessKeys('alice') */
  listAccessKeys(user: string): Promise<WireList<WireAccessKey>> {
    return this.list({ method: 'GET', path: resourcePath('users', user, 'keys') });
  }

  /** Makes a key unusable until enabled again (admin only). @example await admin.disableAccessKey(akid) */
  disableAccessKey(accessKeyId: string): Promise<void> {
    return this.send({ method: 'POST', path: resourcePath('keys', accessKeyId, 'disable') });
  }

  /** Makes a disabled key usable again (admin only). @example await admin.enableAccessKey(akid) */
  enableAccessKey(accessKeyId: string): Promise<void> {
    return this.send({ method: 'POST', path: resourcePath('keys', accessKeyId, 'enable') });
  }

  /** Deletes a key for good (admin only). @example await admin.deleteAccessKey(akid) */
  deleteAccessKey(accessKeyId: string): Promise<void> {
    return this.send({ method: 'DELETE', path: resourcePath('keys', accessKeyId) });
  }
}
