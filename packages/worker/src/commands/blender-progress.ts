import type { ProgressUpdate } from './command-context';

/** What one line of Blender's output means for progress. */
export type BlenderLineEvent =
  /** `Fra:12 ...`, with the sample counter when the line has one. */
  | { kind: 'frame'; frame: number; samplesDone?: number; samplesTotal?: number }
  /** `Saved: '/path/0001.png'`: an image was written. */
  | { kind: 'saved'; path: string }
  /** `Append frame 12`: a frame was added to a movie file (no image to preview). */
  | { kind: 'appended'; frame: number }
  /** A line after which Blender renders nothing, although it still exits with code 0. */
  | { kind: 'fatal'; message: string };

const FRAME = /^Fra:\s*(-?\d+)\s/;
// Cycles (2.9x to 4.x): `| Sample 12/64`, also `Path Tracing Tile 3/4, Sample 12/64`.
const CYCLES_SAMPLE = /\bSample (\d+)\/(\d+)/;
// EEVEE (2.8x to 4.x): `| Rendering 12 / 64 samples`.
const EEVEE_SAMPLE = /\bRendering (\d+) \/ (\d+) samples/;
const SAVED = /^Saved: (['"])(.+)\1/;
const APPENDED = /^Append frame (-?\d+)/;
const FATAL = /^Error: (Cannot read file .*|File format is not supported in file .*)$/;

/**
 * Recognises the Blender output lines that matter for progress and previews, or returns
 * undefined. Pure: the table test feeds it lines that Blender 3.4 and 4.x really print.
 */
export function parseBlenderLine(line: string): BlenderLineEvent | undefined {
  const frame = FRAME.exec(line);
  if (frame) {
    const sample = CYCLES_SAMPLE.exec(line) ?? EEVEE_SAMPLE.exec(line);
    const event: BlenderLineEvent = { kind: 'frame', frame: Number(frame[1]) };
    if (sample) {
      event.samplesDone = Number(sample[1]);
      event.samplesTotal = Number(sample[2]);
    }
    return event;
  }
  const saved = SAVED.exec(line);
  if (saved) return { kind: 'saved', path: saved[2]! };
  const appended = APPENDED.exec(line);
  if (appended) return { kind: 'appended', frame: Number(appended[1]) };
  const fatal = FATAL.exec(line);
  if (fatal) return { kind: 'fatal', message: fatal[1]! };
  return undefined;
}

const INT = '([+-]?\\d+)';
const SINGLE_FRAME = new RegExp(`^${INT}$`);
const FRAME_RANGE = new RegExp(`^${INT}\\.\\.${INT}$`);

/**
 * How many frames a Blender command line renders: the `-f`/`--render-frame` lists (`7`,
 * `1..10`, `1,3,5..8`), or `-a`/`--render-anim` between explicit `-s` and `-e` (with `-j`).
 * Undefined when it cannot be known from the arguments (an animation over the scene's range).
 * Without any render argument Blender renders nothing; that counts as one frame.
 */
export function countRenderFrames(args: readonly string[]): number | undefined {
  let frames = 0;
  let sawFrameArg = false;
  let start: number | undefined;
  let end: number | undefined;
  let jump = 1;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = args[i + 1];
    if ((arg === '-f' || arg === '--render-frame') && value !== undefined) {
      const count = countFrameList(value);
      if (count === undefined) return undefined;
      frames += count;
      sawFrameArg = true;
      i++;
    } else if ((arg === '-s' || arg === '--frame-start') && value !== undefined) {
      start = Number.parseInt(value, 10);
      i++;
    } else if ((arg === '-e' || arg === '--frame-end') && value !== undefined) {
      end = Number.parseInt(value, 10);
      i++;
    } else if ((arg === '-j' || arg === '--frame-jump') && value !== undefined) {
      jump = Math.max(1, Number.parseInt(value, 10) || 1);
      i++;
    } else if (arg === '-a' || arg === '--render-anim') {
      if (start === undefined || end === undefined || Number.isNaN(start + end)) return undefined;
      frames += end >= start ? Math.floor((end - start) / jump) + 1 : 0;
      sawFrameArg = true;
    }
  }
  return sawFrameArg ? frames : 1;
}

function countFrameList(list: string): number | undefined {
  let count = 0;
  for (const part of list.split(',')) {
    const item = part.trim();
    if (SINGLE_FRAME.test(item)) {
      count += 1;
      continue;
    }
    const range = FRAME_RANGE.exec(item);
    // `+n` counts from the scene start and `-n` from its end: only same-based ends can be subtracted.
    if (!range || relativeBase(range[1]!) !== relativeBase(range[2]!)) return undefined;
    const from = Number(range[1]);
    const to = Number(range[2]);
    count += Math.abs(to - from) + 1;
  }
  return count;
}

function relativeBase(n: string): string {
  return n.startsWith('+') || n.startsWith('-') ? n[0]! : '';
}

/** Turns a stream of parsed lines into progress for one `blender-render` command. */
export interface BlenderProgressTracker {
  /** The progress after this event, or undefined when nothing visible changed. */
  update(event: BlenderLineEvent): ProgressUpdate | undefined;
  readonly framesDone: number;
}

/**
 * Progress over the frames of a chunk: `fraction` = (frames saved + sample share of the current
 * frame) / `totalFrames`, `stepsDone` = frames saved, and an activity line such as
 * `frame 12 (3 of 10), sample 32/64`. Without a known total, `fraction` is left out.
 */
export function createBlenderProgress(totalFrames: number | undefined): BlenderProgressTracker {
  const started = new Set<number>();
  const done = new Set<number>();
  let current: number | undefined;
  let samplesDone: number | undefined;
  let samplesTotal: number | undefined;
  let last = '';

  const snapshot = (): ProgressUpdate | undefined => {
    const sampleShare =
      current !== undefined && !done.has(current) && samplesTotal
        ? Math.min(1, (samplesDone ?? 0) / samplesTotal)
        : 0;
    const update: ProgressUpdate = { activity: activity(), stepsDone: done.size };
    if (totalFrames) update.fraction = Math.min(1, (done.size + sampleShare) / totalFrames);
    const key = JSON.stringify(update);
    if (key === last) return undefined;
    last = key;
    return update;
  };

  const activity = (): string => {
    if (current === undefined) return done.size > 0 ? `${done.size} frames saved` : 'starting';
    let text = totalFrames
      ? `frame ${current} (${started.size} of ${totalFrames})`
      : `frame ${current}`;
    if (done.has(current)) text += ', saved';
    else if (samplesTotal !== undefined) text += `, sample ${samplesDone ?? 0}/${samplesTotal}`;
    return text;
  };

  const finishFrame = (frame: number | undefined): void => {
    // Several images for one frame (stereo views, extra outputs) still make one step.
    if (frame !== undefined) done.add(frame);
    else done.add(-1 - done.size);
  };

  return {
    update(event) {
      switch (event.kind) {
        case 'frame':
          if (event.frame !== current) {
            current = event.frame;
            started.add(event.frame);
            samplesDone = undefined;
            samplesTotal = undefined;
          }
          if (event.samplesTotal !== undefined) {
            samplesDone = event.samplesDone;
            samplesTotal = event.samplesTotal;
          }
          break;
        case 'saved':
          finishFrame(current);
          break;
        case 'appended':
          if (current === undefined) {
            current = event.frame;
            started.add(event.frame);
          }
          finishFrame(event.frame);
          break;
        case 'fatal':
          return undefined;
      }
      return snapshot();
    },
    get framesDone() {
      return done.size;
    },
  };
}
