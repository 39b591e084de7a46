/**
 * What the server offers and what happened on it: `instance_type` (`it`, `t`), `resource_type`
 * (`rt`, `r`), `disk_type` (`d`) from GET /available, and `event` (`e`) from GET /events.
 */
import { openSession, withConnectionOptions, type ConnectionFlags } from '../connection.js';
import type { CommandRegistrar } from '../context.js';
import { checked, wholeNumber } from '../option-values.js';
import { renderTable } from '../format/table.js';
import { relativeTime } from '../format/time.js';

interface JsonFlag extends ConnectionFlags {
  json?: boolean;
}

interface EventFlags extends JsonFlag {
  after?: number;
  top?: number;
}

export const registerCatalogCommands: CommandRegistrar = (program, ctx) => {
  const print = (flags: JsonFlag, value: unknown, table: () => string): void => {
    ctx.stdout.write(flags.json ? `${JSON.stringify(value, null, 2)}\n` : table());
  };

  const it = program
    .command('instance_type')
    .aliases(['it', 't'])
    .description('instance types on offer')
    .option('--json', 'print JSON');
  withConnectionOptions(it).action(async (flags: JsonFlag) => {
    const available = await (await openSession(flags, ctx)).client.getAvailable();
    const types = available.AvailableClusterInstanceType ?? [];
    print(flags, types, () =>
      renderTable(
        ['#', 'Name', 'CPU', 'Memory', 'Processes'],
        types.map((t, i) => [
          String(i + 1),
          t.InstanceType,
          // Shoal gives the exact limits; other servers only whole cores and GB.
          String(t.Cpu ?? t.CpuCore),
          t.MemoryMiB !== undefined ? `${t.MemoryMiB} MiB` : `${t.MemorySize} GB`,
          t.ProcessLimit !== undefined ? String(t.ProcessLimit) : '-',
        ]),
      ),
    );
  });

  const rt = program
    .command('resource_type')
    .aliases(['rt', 'r'])
    .description('resource types (OnDemand, Spot)')
    .option('--json', 'print JSON');
  withConnectionOptions(rt).action(async (flags: JsonFlag) => {
    const kinds = (await (await openSession(flags, ctx)).client.getAvailable()).AvailableResourceType ?? [];
    print(flags, kinds, () =>
      renderTable(
        ['#', 'Resource type'],
        kinds.map((k, i) => [String(i + 1), k]),
      ),
    );
  });

  const disk = program
    .command('disk_type')
    .alias('d')
    .description('system and data disk types')
    .option('--json', 'print JSON');
  withConnectionOptions(disk).action(async (flags: JsonFlag) => {
    const available = await (await openSession(flags, ctx)).client.getAvailable();
    const rows = [
      ...(available.AvailableSystemDiskType ?? []).map((t) => ['system', t]),
      ...(available.AvailableDataDiskType ?? []).map((t) => ['data', t]),
    ];
    print(
      flags,
      { System: available.AvailableSystemDiskType ?? [], Data: available.AvailableDataDiskType ?? [] },
      () => renderTable(['Disk', 'Type'], rows),
    );
  });

  const ev = program
    .command('event')
    .alias('e')
    .description('recent events (job and instance state changes)')
    .option(
      '--after <seq>',
      'the events after this sequence number, oldest first (default: the newest first)',
      checked((t) => wholeNumber(t, 0)),
    )
    .option(
      '-t, --top <n>',
      'show at most n events, 1..1000 (default 50)',
      checked((t) => wholeNumber(t, 1, 1000)),
    )
    .option('--json', 'print JSON');
  withConnectionOptions(ev).action(async (flags: EventFlags) => {
    const top = flags.top ?? 50;
    const { client } = await openSession(flags, ctx);
    // The newest first, as a look back; with --after, what followed that event, in order.
    const events = (
      await client.listEvents(
        flags.after === undefined
          ? { order: 'desc', maxItemCount: top }
          : { after: flags.after, maxItemCount: top },
      )
    ).Items;
    const now = ctx.now();
    print(flags, events, () =>
      events.length === 0
        ? 'No events.\n'
        : renderTable(
            ['Seq', 'Time', 'Type', 'Job', 'Task', 'Instance', 'State'],
            events.map((e) => [
              String(e.Seq),
              relativeTime(e.Time, now),
              e.Type,
              e.JobId ?? '-',
              e.TaskName || '-',
              e.InstanceId === undefined || e.InstanceId === null ? '-' : String(e.InstanceId),
              e.State ?? '-',
            ]),
          ),
    );
  });
};
