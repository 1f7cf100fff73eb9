import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runProcess } from './process';

export interface OutputUploaderOptions {
  /** Sends one image to the manager. */
  upload: (
    taskId: string,
    image: Uint8Array,
    contentType: 'image/jpeg' | 'image/png',
  ) => Promise<void>;
  /** The FFmpeg program used to downscale; undefined uploads PNG/JPEG files as they are. */
  ffmpeg?: string;
  /** Wider images are scaled down to this width. 1920 by default. */
  maxWidth?: number;
  /** Larger files are not uploaded without downscaling. 10 MiB by default. */
  maxBytes?: number;
  onError?: (error: unknown) => void;
}

/** Uploads the newest image a task produced; older images waiting their turn are skipped. */
export interface OutputUploader {
  offer(taskId: string, imagePath: string): void;
  /** Resolves once nothing waits or is being sent (or after `timeoutMs`). */
  settled(timeoutMs?: number): Promise<void>;
  /** Resolves once the upload in progress (if any) is done; drops what is still waiting. */
  close(): Promise<void>;
}

/**
 * Creates the last-rendered uploader. One slot: while an image is being converted and sent, a
 * newer one replaces whatever waits, so a fast render never builds a backlog of previews.
 */
export function createOutputUploader(options: OutputUploaderOptions): OutputUploader {
  const maxWidth = options.maxWidth ?? 1920;
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const onError =
    options.onError ?? ((error: unknown) => console.error('preview upload failed:', error));
  let waiting: { taskId: string; imagePath: string } | undefined;
  let running: Promise<void> | undefined;
  let closed = false;
  const controller = new AbortController();

  const prepare = async (
    imagePath: string,
  ): Promise<{ bytes: Uint8Array; type: 'image/jpeg' | 'image/png' }> => {
    if (options.ffmpeg !== undefined) {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'farm-preview-'));
      try {
        const out = path.join(dir, 'preview.jpg');
        const lines: string[] = [];
        const result = await runProcess({
          exe: options.ffmpeg,
          args: [
            '-hide_banner',
            '-loglevel',
            'error',
            '-y',
            '-i',
            imagePath,
            '-vf',
            // Only ever shrink; -2 keeps the height even, as JPEG encoders want.
            `scale='min(${maxWidth},iw)':-2`,
            '-frames:v',
            '1',
            '-q:v',
            '3',
            out,
          ],
          onLine: (line) => lines.push(line),
          signal: controller.signal,
          killGraceMs: 1000,
        });
        if (result.exitCode !== 0)
          throw new Error(`ffmpeg could not convert ${imagePath}: ${lines.join(' ')}`);
        return { bytes: await readFile(out), type: 'image/jpeg' };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    const ext = path.extname(imagePath).toLowerCase();
    const type =
      ext === '.png' ? 'image/png' : ext === '.jpg' || ext === '.jpeg' ? 'image/jpeg' : undefined;
    if (type === undefined)
      throw new Error(`cannot preview ${imagePath} without ffmpeg: only PNG and JPEG`);
    const info = await stat(imagePath);
    if (info.size > maxBytes)
      throw new Error(`${imagePath} is too large to preview without ffmpeg`);
    return { bytes: await readFile(imagePath), type };
  };

  const run = async (): Promise<void> => {
    while (waiting !== undefined && !closed) {
      const item = waiting;
      waiting = undefined;
      try {
        const { bytes, type } = await prepare(item.imagePath);
        if (!closed) await options.upload(item.taskId, bytes, type);
      } catch (error) {
        if (!closed) onError(error);
      }
    }
  };

  return {
    offer(taskId, imagePath) {
      if (closed) return;
      waiting = { taskId, imagePath };
      running ??= run().finally(() => (running = undefined));
    },
    async settled(timeoutMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      // `run` picks up what was offered while it was busy, so one wait covers the newest image.
      await Promise.race([running ?? Promise.resolve(), timeout]);
      clearTimeout(timer);
    },
    async close() {
      closed = true;
      waiting = undefined;
      controller.abort();
      await running;
    },
  };
}
