import fsp from 'node:fs/promises';
import path from 'node:path';
import type { ServiceContext } from '../service-context';
import { previewFolder, toLastRenderedInfo } from './last-rendered';
import { makeThumbnails, THUMBNAIL_SIZE_NAMES } from './make-thumbnails';
import { createPreviewQueue, type PreviewItem, type PreviewQueueStats } from './preview-queue';

export interface PreviewServiceOptions {
  /** Images turned into thumbnails at the same time. @default 1 */
  concurrency?: number;
  /** Jobs that may have an image waiting. @default 64 */
  maxPendingJobs?: number;
  /** Bytes of waiting images. @default 128 MiB */
  maxPendingBytes?: number;
}

/** Turns images from workers into the per-job and farm-wide last-rendered thumbnails. */
export interface PreviewService {
  /** Queues an image of a running task (checked by the caller); returns at once. */
  submit(item: PreviewItem): void;
  stats(): PreviewQueueStats;
  /** Resolves once every queued image is stored (or dropped). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Creates the previews service: a bounded per-job fair queue (`createPreviewQueue`) whose worker
 * makes the thumbnails with sharp, writes them under `<storage>/previews/<jobId>/`, records the
 * `last_rendered` row and publishes `last-rendered` (to the farm-wide topic, the job's
 * last-rendered topic and the job's topic). A dropped image is logged, never an error to the
 * worker: it sends a newer frame soon enough.
 */
export function createPreviewService(
  ctx: ServiceContext,
  options: PreviewServiceOptions = {},
): PreviewService {
  const storageRoot = path.resolve(ctx.config.storageDir);

  const store = async (item: PreviewItem): Promise<void> => {
    const thumbnails = await makeThumbnails(item.image);
    const relative = previewFolder(item.jobId);
    const dir = path.join(storageRoot, relative);
    await fsp.mkdir(dir, { recursive: true });
    // Write then rename, so a reader never sees half an image.
    const stamp = `${process.pid}.${Date.now()}`;
    for (const size of THUMBNAIL_SIZE_NAMES) {
      const file = path.join(dir, `${size}.jpg`);
      const scratch = `${file}.${stamp}.tmp`;
      await fsp.writeFile(scratch, thumbnails[size]);
      await fsp.rename(scratch, file);
    }
    const updatedAt = new Date();
    try {
      await ctx.db
        .insertInto('last_rendered')
        .values({ job_id: item.jobId, task_id: item.taskId, path: relative, updated_at: updatedAt })
        .onConflict((oc) =>
          oc
            .column('job_id')
            .doUpdateSet({ task_id: item.taskId, path: relative, updated_at: updatedAt }),
        )
        .execute();
    } catch (error) {
      // The job was deleted while its image waited: its row cannot exist, nor should its files.
      const exists = await ctx.db
        .selectFrom('jobs')
        .select('id')
        .where('id', '=', item.jobId)
        .executeTakeFirst();
      if (exists) throw error;
      await fsp.rm(dir, { recursive: true, force: true });
      return;
    }
    const info = toLastRenderedInfo({ job_id: item.jobId, updated_at: updatedAt });
    ctx.publish({ type: 'last-rendered', jobId: item.jobId, info });
  };

  const queue = createPreviewQueue<PreviewItem>({
    process: store,
    concurrency: options.concurrency,
    maxPendingJobs: options.maxPendingJobs,
    maxPendingBytes: options.maxPendingBytes,
    onDropped: (item, reason) => {
      if (reason === 'queue-full') {
        const stats = queue.stats();
        ctx.logger.warn('previews queue full: dropped the image that waited longest', {
          jobId: item.jobId,
          taskId: item.taskId,
          bytes: item.image.byteLength,
          pendingJobs: stats.pendingJobs,
          pendingBytes: stats.pendingBytes,
        });
      }
    },
    onError: (item, error) =>
      ctx.logger.warn('could not make the last-rendered thumbnails', {
        jobId: item.jobId,
        taskId: item.taskId,
        error: String(error),
      }),
  });

  return {
    submit: (item) => queue.submit(item),
    stats: () => queue.stats(),
    idle: () => queue.idle(),
    close: () => queue.close(),
  };
}
