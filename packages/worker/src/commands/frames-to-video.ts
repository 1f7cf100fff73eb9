import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FarmError } from '@farm/core';
import type { CommandExecutor } from './command-context';
import { expandGlob } from './expand-glob';
import { runCommandProcess } from './run-command-process';
import { shellSplit } from '@farm/core';
import type { FramesToVideoParameters } from '@farm/core';

/**
 * The FFmpeg call of `frames-to-video`:
 * `exe exeArgs argsBefore <input> args -r fps outputFile`, where `<input>` is
 * `-r fps -pattern_type glob -i inputGlob` on POSIX and `-f concat -safe 0 -i listFile` on
 * Windows, whose FFmpeg builds have no glob support.
 */
export function buildFramesToVideoCommand(
  params: FramesToVideoParameters,
  options: { platform: NodeJS.Platform; listFile?: string },
): { exe: string; args: string[] } {
  const [exe, ...exeExtra] = shellSplit(params.exe);
  if (exe === undefined) throw new FarmError('validation_failed', 'frames-to-video: exe is empty');
  const fps = String(params.fps);
  let input: string[];
  if (options.platform === 'win32') {
    if (options.listFile === undefined) {
      throw new FarmError('internal', 'frames-to-video on Windows needs a concat list file');
    }
    input = ['-f', 'concat', '-safe', '0', '-i', options.listFile];
  } else {
    input = ['-r', fps, '-pattern_type', 'glob', '-i', params.inputGlob];
  }
  return {
    exe,
    args: [
      ...exeExtra,
      ...shellSplit(params.exeArgs ?? ''),
      ...(params.argsBefore ?? []),
      ...input,
      ...(params.args ?? []),
      '-r',
      fps,
      params.outputFile,
    ],
  };
}

/**
 * An FFmpeg concat list showing each file (in name order) for one frame at `fps`. The duration is
 * written as a decimal: FFmpeg rejects a fraction such as `1/24` in a concat list.
 */
export function buildConcatList(files: readonly string[], fps: number): string {
  const duration = String(1 / fps);
  return [...files]
    .sort()
    .map((file) => `file '${file.replace(/'/g, `'\\''`)}'\nduration ${duration}\n`)
    .join('');
}

const FFMPEG_FRAME = /^frame=\s*(\d+)/;

/** The frame number of an FFmpeg status line (`frame=  123 fps=...`), or undefined. */
export function parseFfmpegFrame(line: string): number | undefined {
  const match = FFMPEG_FRAME.exec(line);
  return match ? Number(match[1]) : undefined;
}

/**
 * `frames-to-video`: encodes the images matching `inputGlob` with FFmpeg, reporting progress
 * from its `frame=` lines against the number of input files. Fails early, with a clear message,
 * when nothing matches.
 */
export const framesToVideo: CommandExecutor<FramesToVideoParameters> = async (params, ctx) => {
  const files = await expandGlob(params.inputGlob, ctx.workDir);
  if (files.length === 0) {
    throw new FarmError('not_found', `frames-to-video: no files match ${params.inputGlob}`);
  }
  ctx.log(`frames-to-video: ${files.length} input images match ${params.inputGlob}`);
  let listFile: string | undefined;
  if (ctx.platform === 'win32') {
    listFile = path.join(ctx.workDir, `ffmpeg-file-index-${randomUUID()}.txt`);
    await writeFile(listFile, buildConcatList(files, params.fps));
  }
  try {
    const { exe, args } = buildFramesToVideoCommand(params, { platform: ctx.platform, listFile });
    let lastFrame = -1;
    ctx.progress({ fraction: 0, activity: `encoding ${files.length} frames`, stepsDone: 0 });
    await runCommandProcess(ctx, {
      exe,
      args,
      exeVariable: 'ffmpeg',
      onLine(line) {
        const frame = parseFfmpegFrame(line);
        if (frame === undefined || frame === lastFrame) return;
        lastFrame = frame;
        ctx.progress({
          fraction: Math.min(1, frame / files.length),
          activity: `encoding frame ${frame} of ${files.length}`,
        });
      },
    });
  } finally {
    if (listFile !== undefined) await rm(listFile, { force: true });
  }
};
