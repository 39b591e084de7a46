/**
 * Users and access keys, for the admin only. A secret leaves the server once, in the response that creates
 * its key; it is sealed before it reaches the store and never logged.
 */
import type { AccessKeyInfo, Clock, Page, Store, UserRecord } from '@shoal/core';
import { invalidParameter, notFound, ShoalError } from '@shoal/core';
import type { KeyRing } from '../api/auth.js';
import { ADMIN_NAME, newAccessKey } from '../credentials.js';
import type { SecretSealer } from '../sealing.js';
import type { Caller } from './caller.js';

export const USER_NAME_PATTERN = /^[a-z][a-z0-9_-]{1,31}$/;

export function requireAdmin(caller: Caller): void {
  if (!caller.admin)
    throw new ShoalError('Forbidden.AdminOnly', 'Only the admin may manage users and access keys.');
}

export class AccountService {
  constructor(
    private readonly store: Store,
    private readonly keys: KeyRing,
    private readonly sealer: SecretSealer,
    private readonly clock: Clock,
    /** Set when the server may not gain users: why (an unsandboxed server without --allow-unsandboxed-users). */
    private readonly refuseNewUsers = '',
  ) {}

  async createUser(caller: Caller, body: unknown): Promise<UserRecord> {
    requireAdmin(caller);
    const name =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>).Name : undefined;
    if (typeof name !== 'string' || !USER_NAME_PATTERN.test(name)) {
      throw invalidParameter('Name', name, 'must match ^[a-z][a-z0-9_-]{1,31}$');
    }
    if (this.refuseNewUsers)
      throw new ShoalError('StateConflict', `User operation is invalid: ${this.refuseNewUsers}.`);
    return this.store.createUser(name, this.clock.nowUs());
  }

  listUsers(caller: Caller, query: { marker?: string; limit: number }): Promise<Page<UserRecord>> {
    requireAdmin(caller);
    return this.store.listUsers(query);
  }

  async deleteUser(caller: Caller, name: string): Promise<void> {
    requireAdmin(caller);
    if (name === ADMIN_NAME)
      throw new ShoalError('StateConflict', 'User operation is invalid: the admin user cannot be deleted.');
    const keys = await this.userKeys(name);
    if (!(await this.store.deleteUser(name))) throw notFound('user', name);
    for (const key of keys) this.keys.forget(key.id);
  }

  async createAccessKey(
    caller: Caller,
    userName: string,
  ): Promise<{ AccessKeyId: string; AccessKeySecret: string }> {
    requireAdmin(caller);
    const user = await this.store.getUser(userName);
    if (!user) throw notFound('user', userName);
    const key = newAccessKey();
    const secret = this.sealer.seal(key.AccessKeyId, key.AccessKeySecret);
    await this.store.createAccessKey(
      { id: key.AccessKeyId, secret, ownerId: user.ownerId, disabled: false },
      this.clock.nowUs(),
    );
    return key;
  }

  async listAccessKeys(caller: Caller, userName: string): Promise<AccessKeyInfo[]> {
    requireAdmin(caller);
    return this.userKeys(userName);
  }

  async setAccessKeyState(caller: Caller, id: string, disabled: boolean): Promise<void> {
    requireAdmin(caller);
    if (!(await this.store.setAccessKeyState(id, disabled))) throw notFound('access key', id);
    this.keys.forget(id);
  }

  async deleteAccessKey(caller: Caller, id: string): Promise<void> {
    requireAdmin(caller);
    if (!(await this.store.deleteAccessKey(id))) throw notFound('access key', id);
    this.keys.forget(id);
  }

  private async userKeys(name: string): Promise<AccessKeyInfo[]> {
    const user = await this.store.getUser(name);
    if (!user) throw notFound('user', name);
    return this.store.listAccessKeys(user.ownerId);
  }
}
