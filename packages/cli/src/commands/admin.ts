/**
 * `shoal admin user create|list|delete` and `shoal admin key create|list|disable|enable|delete`:
 * the admin API (admin key only). A new key's secret is printed once, never again.
 */
import type { Command } from 'commander';
import { openSession, withConnectionOptions, type ConnectionFlags } from '../connection.js';
import type { CliContext, CommandRegistrar, ExitState } from '../context.js';
import { paintState, useColour } from '../format/colour.js';
import { renderFields, renderTable } from '../format/table.js';
import { relativeTime } from '../format/time.js';

type Flags = ConnectionFlags & { json?: boolean };

function leaf(
  parent: Command,
  name: string,
  summary: string,
  args: string[],
  run: (ctx: CliContext, flags: Flags, ...values: string[]) => Promise<void>,
  ctx: CliContext,
  exit: ExitState,
  aliases: string[] = [],
): void {
  let command = parent.command(name).aliases(aliases).description(summary).option('--json', 'print JSON');
  for (const arg of args) command = command.argument(arg);
  withConnectionOptions(command).action(async (...params: unknown[]) => {
    const values = params.slice(0, args.length) as string[];
    await run(ctx, params[args.length] as Flags, ...values);
    exit.code = 0;
  });
}

const json = (ctx: CliContext, value: unknown): void =>
  void ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

export const registerAdminCommands: CommandRegistrar = (program, ctx, exit) => {
  const admin = program.command('admin').description('manage users and access keys (admin key only)');
  const user = admin.command('user').description('users: create, list, delete');
  const key = admin.command('key').description('access keys: create, list, disable, enable, delete');

  leaf(
    user,
    'create',
    'create a user',
    ['<name>'],
    async (c, flags, name) => {
      const created = await (await openSession(flags, c)).client.createUser(name!);
      if (flags.json) return json(c, created);
      c.stdout.write(`Created user ${created.Id} (owner ${created.OwnerId})\n`);
    },
    ctx,
    exit,
  );

  leaf(
    user,
    'list',
    'list users',
    [],
    async (c, flags) => {
      const users = [];
      for await (const u of (await openSession(flags, c)).client.users()) users.push(u);
      if (flags.json) return json(c, users);
      const now = c.now();
      c.stdout.write(
        renderTable(
          ['Name', 'OwnerId', 'Keys', 'Created'],
          users.map((u) => [
            u.Name,
            String(u.OwnerId),
            String(u.KeyCount ?? 0),
            relativeTime(u.CreationTime ?? '', now),
          ]),
        ),
      );
    },
    ctx,
    exit,
    ['ls'],
  );

  leaf(
    user,
    'delete',
    'delete a user and its keys (its jobs stay)',
    ['<name>'],
    async (c, flags, name) => {
      await (await openSession(flags, c)).client.deleteUser(name!);
      c.stdout.write(`Deleted user ${name}\n`);
    },
    ctx,
    exit,
    ['rm'],
  );

  leaf(
    key,
    'create',
    'create an access key for a user; the secret is shown only now',
    ['<user>'],
    async (c, flags, name) => {
      const created = await (await openSession(flags, c)).client.createAccessKey(name!);
      if (flags.json) return json(c, created);
      c.stdout.write(
        renderFields([
          ['AccessKeyId', created.AccessKeyId],
          ['AccessKeySecret', created.AccessKeySecret],
        ]) + 'Keep the secret now: it cannot be shown again.\n',
      );
    },
    ctx,
    exit,
  );

  leaf(
    key,
    'list',
    "list a user's access keys",
    ['<user>'],
    async (c, flags, name) => {
      const keys = (await (await openSession(flags, c)).client.listAccessKeys(name!)).Items;
      if (flags.json) return json(c, keys);
      const now = c.now();
      const colour = useColour(c);
      c.stdout.write(
        renderTable(
          ['AccessKeyId', 'State', 'Created'],
          keys.map((k) => [k.AccessKeyId, paintState(k.State, colour), relativeTime(k.CreationTime, now)]),
        ),
      );
    },
    ctx,
    exit,
    ['ls'],
  );

  const keyAction = (
    name: string,
    done: string,
    call: 'disableAccessKey' | 'enableAccessKey' | 'deleteAccessKey',
    summary: string,
    aliases: string[] = [],
  ): void =>
    leaf(
      key,
      name,
      summary,
      ['<accessKeyId>'],
      async (c, flags, id) => {
        await (await openSession(flags, c)).client[call](id!);
        c.stdout.write(`${done} ${id}\n`);
      },
      ctx,
      exit,
      aliases,
    );
  keyAction('disable', 'Disabled', 'disableAccessKey', 'disable an access key');
  keyAction('enable', 'Enabled', 'enableAccessKey', 'enable a disabled access key');
  keyAction('delete', 'Deleted', 'deleteAccessKey', 'delete an access key', ['rm']);
};
