import fsp from 'node:fs/promises';
import path from 'node:path';
import { FarmError, type LastRenderedInfo } from '@farm/core';
import { jobNotFound } from '../../db/queries/jobs';
import type { LastRenderedRow } from '../../db';
import type { ServiceContext } from '../service-context';
import { THUMBNAIL_SIZE_NAMES, type ThumbnailSize } from './make-thumbnails';

/** The folder of a job's thumbnails, relative to the storage folder (as `last_rendered.path`). */
export function previewFolder(jobId: string): string {
  return path.join('previews', jobId);
}

/** The API view of a `last_rendered` row: one URL per size, versioned by the row's time. */
export function toLastRenderedInfo(row: Pick<LastRenderedRow, 'job_id' | 'updated_at'>) {
  const version = row.updated_at.getTime();
  const url = (size: ThumbnailSize): string =>
    `/api/v1/jobs/${row.job_id}/last-rendered/${size}?v=${version}`;
  const info: LastRenderedInfo = {
    jobId: row.job_id,
    updated: row.updated_at.toISOString(),
    images: { full: url('full'), small: url('small'), tiny: url('tiny') },
  };
  return info;
}

/** A job's last-rendered image info; null when it has none yet. @throws `not_found` for no job. */
export async function getJobLastRendered(
  ctx: ServiceContext,
  jobId: string,
): Promise<LastRenderedInfo | null> {
  const row = await ctx.db
    .selectFrom('jobs as j')
    .leftJoin('last_rendered as lr', 'lr.job_id', 'j.id')
    .select(['j.id as job_id', 'lr.updated_at'])
    .where('j.id', '=', jobId)
    .executeTakeFirst();
  if (!row) throw jobNotFound(jobId);
  return row.updated_at
    ? toLastRenderedInfo({ job_id: row.job_id, updated_at: row.updated_at })
    : null;
}

/** The newest image of the farm, or of these projects only; null when there is none (yet). */
export async function getLastRendered(
  ctx: ServiceContext,
  projectIds: readonly string[] | null = null,
): Promise<LastRenderedInfo | null> {
  if (projectIds !== null && projectIds.length === 0) return null;
  let select = ctx.db
    .selectFrom('last_rendered as lr')
    .select(['lr.job_id', 'lr.updated_at'])
    .orderBy('lr.updated_at', 'desc')
    .limit(1);
  if (projectIds !== null) {
    select = select
      .innerJoin('jobs as j', 'j.id', 'lr.job_id')
      .where('j.project_id', 'in', [...projectIds]);
  }
  const row = await select.executeTakeFirst();
  return row ? toLastRenderedInfo(row) : null;
}

/** One stored thumbnail, ready to send. */
export interface LastRenderedImage {
  bytes: Buffer;
  /** A strong validator of these bytes (their file's modification time and size). */
  etag: string;
  /** The version `LastRenderedInfo` URLs carry (the row's time in ms). */
  version: string;
}

/**
 * Reads a job's thumbnail of one size. @throws `not_found` when the job has no image (yet), or
 * its file is gone (a job deleted on another replica).
 */
export async function readLastRenderedImage(
  ctx: ServiceContext,
  jobId: string,
  size: ThumbnailSize,
): Promise<LastRenderedImage> {
  if (!THUMBNAIL_SIZE_NAMES.includes(size)) {
    throw new FarmError('bad_request', `size must be one of ${THUMBNAIL_SIZE_NAMES.join(', ')}`);
  }
  const row = await ctx.db
    .selectFrom('last_rendered')
    .select(['path', 'updated_at'])
    .where('job_id', '=', jobId)
    .executeTakeFirst();
  const missing = new FarmError('not_found', `job ${jobId} has no last-rendered image`, {
    details: { jobId },
  });
  if (!row) throw missing;
  const root = path.resolve(ctx.config.storageDir);
  const file = path.resolve(root, row.path, `${size}.jpg`);
  if (!file.startsWith(root + path.sep)) throw missing;
  try {
    const [bytes, info] = await Promise.all([fsp.readFile(file), fsp.stat(file)]);
    return {
      bytes,
      etag: `"${Math.round(info.mtimeMs).toString(36)}-${info.size.toString(36)}"`,
      version: String(row.updated_at.getTime()),
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw missing;
    throw error;
  }
}

/** Removes a deleted job's thumbnails (its `last_rendered` row goes with the job's). */
export async function deleteJobPreviews(ctx: ServiceContext, jobId: string): Promise<void> {
  await fsp.rm(path.join(ctx.config.storageDir, previewFolder(jobId)), {
    recursive: true,
    force: true,
  });
}
