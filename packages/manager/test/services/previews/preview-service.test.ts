import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createPreviewService, type PreviewService } from '../../../src/services/previews';
import { createMemoryLogger } from '../../http/test-app';
import { seedJob } from '../../scheduler/seed';
import { describeEachDatabase } from '../../support/test-database';
import { createTestWorkerContext, type TestWorkerContext } from '../workers/worker-context';

/** A real PNG of the given size, in one colour. */
function png(width: number, height: number, red = 200): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: red, g: 40, b: 90 } } })
    .png()
    .toBuffer();
}

describeEachDatabase('previews service', (getDb) => {
  let ctx: TestWorkerContext;
  let log: ReturnType<typeof createMemoryLogger>;
  let previews: PreviewService | undefined;

  beforeEach(() => {
    ctx = createTestWorkerContext(getDb());
    log = createMemoryLogger();
    ctx.logger = log.logger;
  });
  afterEach(async () => {
    await previews?.close();
    previews = undefined;
    await ctx.cleanUp();
  });

  const lastRenderedJobs = (): string[] =>
    ctx.events.flatMap((event) => (event.type === 'last-rendered' ? [event.jobId] : []));

  const storedWidth = async (jobId: string, size: string): Promise<number | undefined> => {
    const file = path.join(ctx.config.storageDir, 'previews', jobId, `${size}.jpg`);
    const meta = await sharp(fs.readFileSync(file)).metadata();
    expect(meta.format).toBe('jpeg');
    return meta.width;
  };

  it('makes JPEG thumbnails in three sizes, records the row and publishes the event', async () => {
    const { jobId, taskIds } = await seedJob(ctx.db);
    previews = createPreviewService(ctx);
    previews.submit({ jobId, taskId: taskIds[0]!, image: await png(3000, 1500) });
    await previews.idle();

    expect(await storedWidth(jobId, 'full')).toBe(1920);
    expect(await storedWidth(jobId, 'small')).toBe(640);
    expect(await storedWidth(jobId, 'tiny')).toBe(160);
    const row = await ctx.db
      .selectFrom('last_rendered')
      .selectAll()
      .where('job_id', '=', jobId)
      .executeTakeFirstOrThrow();
    expect(row.task_id).toBe(taskIds[0]);
    const event = ctx.events.find((e) => e.type === 'last-rendered');
    expect(event).toEqual({
      type: 'last-rendered',
      jobId,
      info: {
        jobId,
        updated: row.updated_at.toISOString(),
        images: {
          full: `/api/v1/jobs/${jobId}/last-rendered/full?v=${row.updated_at.getTime()}`,
          small: `/api/v1/jobs/${jobId}/last-rendered/small?v=${row.updated_at.getTime()}`,
          tiny: `/api/v1/jobs/${jobId}/last-rendered/tiny?v=${row.updated_at.getTime()}`,
        },
      },
    });
  });

  it('never enlarges a small image and logs an image it cannot decode', async () => {
    const { jobId, taskIds } = await seedJob(ctx.db);
    previews = createPreviewService(ctx);
    previews.submit({ jobId, taskId: taskIds[0]!, image: Buffer.from('not an image at all') });
    await previews.idle();
    expect(lastRenderedJobs()).toEqual([]);
    expect(log.text()).toContain('could not make the last-rendered thumbnails');

    previews.submit({ jobId, taskId: taskIds[0]!, image: await png(300, 200) });
    await previews.idle();
    expect(await storedWidth(jobId, 'full')).toBe(300);
    expect(await storedWidth(jobId, 'small')).toBe(300);
    expect(await storedWidth(jobId, 'tiny')).toBe(160);
  });

  it('does not let a burst from one job delay another job: jobs take turns', async () => {
    const busy = await seedJob(ctx.db, { name: 'busy' });
    const quiet = await seedJob(ctx.db, { name: 'quiet' });
    previews = createPreviewService(ctx, { concurrency: 1 });
    // Made first, so the burst arrives as fast as a worker fleet could send it.
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => png(400 + i * 10, 100)));
    for (const image of burst)
      previews.submit({ jobId: busy.jobId, taskId: busy.taskIds[0]!, image });
    previews.submit({ jobId: quiet.jobId, taskId: quiet.taskIds[0]!, image: await png(222, 100) });
    // Only the newest waiting image of the busy job is kept: nothing piles up behind it.
    expect(previews.stats().pendingJobs).toBe(2);
    await previews.idle();

    // The busy job's first image was in work; the quiet job went next, then the busy job's newest.
    expect(lastRenderedJobs()).toEqual([busy.jobId, quiet.jobId, busy.jobId]);
    expect(await storedWidth(quiet.jobId, 'full')).toBe(222);
    expect(await storedWidth(busy.jobId, 'full')).toBe(400 + 29 * 10);
  });

  it('stays bounded: past its job limit the image that waited longest is dropped and logged', async () => {
    const jobs = [];
    for (let i = 0; i < 8; i++) jobs.push(await seedJob(ctx.db, { name: `job ${i}` }));
    previews = createPreviewService(ctx, { concurrency: 1, maxPendingJobs: 3 });
    const image = await png(500, 300);
    for (const job of jobs) {
      previews.submit({ jobId: job.jobId, taskId: job.taskIds[0]!, image });
      expect(previews.stats().pendingJobs).toBeLessThanOrEqual(3);
    }
    await previews.idle();
    // Job 0 was in work at once; jobs 1-4 were dropped for 5, 6 and 7.
    expect(lastRenderedJobs()).toEqual(
      [jobs[0]!, jobs[5]!, jobs[6]!, jobs[7]!].map((j) => j.jobId),
    );
    const drops = log.entries.filter((e) => String(e.message).startsWith('previews queue full'));
    expect(drops.map((e) => e.jobId)).toEqual(jobs.slice(1, 5).map((j) => j.jobId));
  });

  it('stays bounded in bytes: waiting images never exceed the byte limit', async () => {
    const jobs = [];
    for (let i = 0; i < 6; i++) jobs.push(await seedJob(ctx.db, { name: `job ${i}` }));
    const image = await png(800, 600);
    const maxPendingBytes = image.byteLength * 2;
    previews = createPreviewService(ctx, { concurrency: 1, maxPendingBytes });
    for (const job of jobs) {
      previews.submit({ jobId: job.jobId, taskId: job.taskIds[0]!, image });
      expect(previews.stats().pendingBytes).toBeLessThanOrEqual(maxPendingBytes);
    }
    await previews.idle();
    expect(lastRenderedJobs()).toEqual([jobs[0]!, jobs[4]!, jobs[5]!].map((j) => j.jobId));
  });

  it('drops the image of a job deleted while it waited, leaving no files', async () => {
    const { jobId, taskIds } = await seedJob(ctx.db);
    previews = createPreviewService(ctx);
    // The upload was accepted while the task ran; the job is deleted before its turn comes.
    await ctx.db.deleteFrom('jobs').where('id', '=', jobId).execute();
    previews.submit({ jobId, taskId: taskIds[0]!, image: await png(64, 64) });
    await previews.idle();
    expect(lastRenderedJobs()).toEqual([]);
    expect(fs.existsSync(path.join(ctx.config.storageDir, 'previews', jobId))).toBe(false);
  });
});
