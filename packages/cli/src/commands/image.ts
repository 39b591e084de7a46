/**
 * Images (bcs `image` / `img` / `i`, `create_image` / `ci`, `delete_image` / `di`): the system images
 * (the worker's own OS) and your own, root filesystem archives or Docker images.
 */
import type { WireImage } from '@shoal/core';
import { openSession, withConnectionOptions, type ConnectionFlags } from '../connection.js';
import { UsageError, type CommandRegistrar } from '../context.js';
import { formatError } from '../format/error.js';
import { renderFields, renderTable } from '../format/table.js';
import { relativeTime } from '../format/time.js';

interface ListFlags extends ConnectionFlags {
  description?: boolean;
  json?: boolean;
}

interface CreateFlags extends ConnectionFlags {
  platform?: string;
  description?: string;
  show_json?: boolean;
}

export const registerImageCommands: CommandRegistrar = (program, ctx, exit) => {
  const list = program
    .command('image')
    .aliases(['img', 'i'])
    .description('list images (the system ones and yours), or show one')
    .argument('[imageId]', 'an image id')
    .option('-d, --description', 'show the description')
    .option('--json', 'print JSON');
  withConnectionOptions(list).action(async (id: string | undefined, flags: ListFlags) => {
    const { client } = await openSession(flags, ctx);
    if (id) {
      const image = await client.getImage(id);
      if (flags.json) ctx.stdout.write(`${JSON.stringify(image, null, 2)}\n`);
      else
        ctx.stdout.write(
          renderFields([
            ['Id', image.Id],
            ['Name', image.Name],
            ['Kind', image.Kind],
            ['Source', image.Source || '-'],
            ['ArchivePath', image.ArchivePath || '-'],
            ['Platform', image.Platform],
            ['OwnerId', String(image.OwnerId)],
            ['Created', image.CreationTime],
            ['Description', image.Description || '-'],
          ]),
        );
      return;
    }
    const images: WireImage[] = [];
    for (const system of [true, false]) {
      let marker: string | undefined;
      do {
        const page = await client.listImages({ system, marker, maxItemCount: 100 });
        images.push(...page.Items);
        marker = page.NextMarker || undefined;
      } while (marker);
    }
    if (flags.json) {
      ctx.stdout.write(`${JSON.stringify(images, null, 2)}\n`);
      return;
    }
    const now = ctx.now();
    const head = [
      '#',
      'Id',
      'Name',
      'Kind',
      'Source',
      'Created',
      ...(flags.description ? ['Description'] : []),
    ];
    ctx.stdout.write(
      renderTable(
        head,
        images.map((i, n) => [
          String(n + 1),
          i.Id,
          i.Name,
          i.Kind,
          i.Source || "the worker's OS",
          i.Type === 'System' ? '-' : relativeTime(i.CreationTime, now),
          ...(flags.description ? [i.Description] : []),
        ]),
      ),
    );
  });

  const create = program
    .command('create_image')
    .alias('ci')
    .description('register an image: a root filesystem archive (oss://...tar.gz) or docker://<image>')
    .argument('<name>', 'image name')
    .argument('<ecsImageId>', 'oss://bucket/rootfs.tar.gz, or docker://repository[:tag]')
    .option('-p, --platform <os>', 'Linux (the only platform Shoal runs)', 'Linux')
    .option('-d, --description <text>', 'description')
    .option('--show_json', 'print the description instead of submitting it');
  withConnectionOptions(create).action(async (name: string, source: string, flags: CreateFlags) => {
    if (flags.platform !== 'Linux')
      throw new UsageError(
        `--platform must be Linux (the only platform Shoal runs), got "${flags.platform}"`,
      );
    const description = {
      Name: name,
      Description: flags.description ?? '',
      Platform: 'Linux' as const,
      EcsImageId: source,
    };
    if (flags.show_json) {
      ctx.stdout.write(`${JSON.stringify(description, null, 2)}\n`);
      return;
    }
    const { client } = await openSession(flags, ctx);
    const { Id } = await client.createImage(description);
    ctx.stdout.write(`Image created: ${Id}\n`);
    exit.code = 0;
  });

  const remove = program
    .command('delete_image')
    .alias('di')
    .description('delete your images (jobs already accepted keep running in them)')
    .argument('<imageIds>', 'image ids, comma separated')
    .option('-y, --yes', 'do not ask for confirmation (accepted for bcs compatibility; nothing is asked)');
  withConnectionOptions(remove).action(async (ids: string, flags: ConnectionFlags) => {
    const { client } = await openSession(flags, ctx);
    let failed = false;
    for (const id of ids.split(',').filter(Boolean)) {
      try {
        await client.deleteImage(id);
        ctx.stdout.write(`Deleted ${id}\n`);
      } catch (err) {
        failed = true;
        ctx.stderr.write(formatError(err, Boolean(ctx.env['DEBUG'])));
      }
    }
    exit.code = failed ? 1 : 0;
  });
};
