/**
 * Images (spec §4 rows 22–24): registering, listing and deleting a user's own, the built-in system
 * images, and resolving the image each task of a new job runs in. Another owner's image is reported as
 * not found, so ids do not leak.
 */
import type { Clock, ImageRecord, JobSpec, Page, Store, TaskImage, TaskSpec } from '@shoal/core';
import {
  DEFAULT_IMAGE_ID,
  formatTime,
  invalidJob,
  invalidParameter,
  notFound,
  parseObjectUri,
  readImageDescription,
  ShoalError,
  SYSTEM_IMAGES,
  systemImage,
  type WireImage,
} from '@shoal/core';
import { newImageId } from '../ids.js';
import type { Caller } from './caller.js';
import type { ObjectAccess } from './object-access.js';

export class ImageService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly objects: ObjectAccess,
    /** Whether this server's workers can run Docker images. */
    private readonly docker: () => boolean,
  ) {}

  async create(caller: Caller, body: unknown, idempotentToken: string | null): Promise<string> {
    const image = readImageDescription(body);
    // The archive must be the caller's to read: an image is no way into another user's bucket.
    const archive = image.kind === 'RootFs' ? image.source : image.archive;
    if (archive) await this.objects.checkRead(caller, parseObjectUri(archive));
    const record: ImageRecord = {
      ...image,
      id: newImageId(),
      ownerId: caller.ownerId,
      createdAtUs: this.clock.nowUs(),
    };
    return (await this.store.createImage(record, idempotentToken)).id;
  }

  async get(caller: Caller, id: string): Promise<WireImage> {
    const system = SYSTEM_IMAGES.find((i) => i.id === id);
    if (system) return presentSystem(system);
    return presentImage(await this.own(caller, id));
  }

  /** `Type=System` lists the built-in images; otherwise the caller's own (every user's for the admin). */
  async list(
    caller: Caller,
    query: { system: boolean; marker?: string; limit: number },
  ): Promise<Page<WireImage>> {
    if (query.system) {
      const from = query.marker ? SYSTEM_IMAGES.findIndex((i) => i.id === query.marker) + 1 : 0;
      const items = SYSTEM_IMAGES.slice(from, from + query.limit).map(presentSystem);
      const more = from + query.limit < SYSTEM_IMAGES.length;
      return { items, nextMarker: more ? items[items.length - 1]!.Id : '' };
    }
    const page = await this.store.listImages({
      ...(caller.admin ? {} : { ownerId: caller.ownerId }),
      ...(query.marker ? { marker: query.marker } : {}),
      limit: query.limit,
    });
    return { items: page.items.map(presentImage), nextMarker: page.nextMarker };
  }

  async delete(caller: Caller, id: string): Promise<void> {
    if (systemImage(id)) throw invalidImageOperation(`${id} is a system image`);
    await this.own(caller, id);
    await this.store.deleteImage(id);
  }

  /**
   * Resolves the image of every task, once, at submit: a job keeps running in the images it was accepted
   * with, whatever happens to them later. Errors name the field.
   */
  async resolveJob(caller: Caller, spec: JobSpec): Promise<JobSpec> {
    const tasks: TaskSpec[] = [];
    for (const task of spec.tasks) tasks.push({ ...task, image: await this.resolveTask(caller, task) });
    return { ...spec, tasks };
  }

  private async resolveTask(caller: Caller, task: TaskSpec): Promise<TaskImage> {
    const at = `DAG.Tasks.${task.name}`;
    if (task.docker) {
      this.requireDocker(`${at}.Parameters.Command`, task.docker.image);
      return { id: '', kind: 'Docker', source: task.docker.image, archive: task.docker.archive };
    }
    const auto = task.autoCluster;
    const field = auto?.imageId ? `${at}.AutoCluster.ImageId` : `${at}.AutoCluster.ECSImageId`;
    const id = auto?.imageId || auto?.ecsImageId || DEFAULT_IMAGE_ID;
    const system = systemImage(id);
    if (system) return system;
    const image = await this.store.getImage(id);
    if (!image || (!caller.admin && image.ownerId !== caller.ownerId)) {
      throw invalidJob(
        field,
        id,
        `must be one of your images (GET /images) or a system image (${SYSTEM_IMAGES.map((i) => i.id).join(', ')})`,
      );
    }
    if (image.kind === 'Docker') this.requireDocker(field, id);
    return { id: image.id, kind: image.kind, source: image.source, archive: image.archive };
  }

  /** Checks that `id` names a system image or one of the caller's (a cluster's ImageId). */
  async checkUsable(caller: Caller, id: string, field: string): Promise<void> {
    if (systemImage(id)) return;
    const image = await this.store.getImage(id);
    if (!image || (!caller.admin && image.ownerId !== caller.ownerId))
      throw invalidParameter(
        field,
        id,
        `must be one of your images (GET /images) or a system image (${SYSTEM_IMAGES.map((i) => i.id).join(', ')})`,
      );
  }

  private requireDocker(field: string, what: string): void {
    if (!this.docker())
      throw invalidJob(field, what, 'names a Docker image, but no worker of this server has a Docker engine');
  }

  private async own(caller: Caller, id: string): Promise<ImageRecord> {
    const image = await this.store.getImage(id);
    if (!image || (!caller.admin && image.ownerId !== caller.ownerId)) throw notFound('image', id);
    return image;
  }
}

function invalidImageOperation(why: string): ShoalError {
  return new ShoalError('StateConflict', `Image operation is invalid: ${why}.`);
}

function presentSystem(i: { id: string; name: string }): WireImage {
  return {
    Id: i.id,
    Name: i.name,
    Type: 'System',
    Description: "the worker's own operating system, in its sandbox",
    EcsImageId: '',
    OwnerId: 0,
    Platform: 'Linux',
    CreationTime: formatTime(0),
    Kind: 'System',
    Source: '',
    ArchivePath: '',
  };
}

function presentImage(i: ImageRecord): WireImage {
  return {
    Id: i.id,
    Name: i.name,
    Type: 'Self',
    Description: i.description,
    EcsImageId: i.ecsImageId,
    OwnerId: i.ownerId,
    Platform: i.platform,
    CreationTime: formatTime(i.createdAtUs),
    Kind: i.kind,
    Source: i.source,
    ArchivePath: i.archive,
  };
}
