import { existsSync, statSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import chokidar, { type FSWatcher } from 'chokidar';

/** File name endings the watcher treats as images (lower case). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.exr', '.tif', '.tiff', '.bmp', '.webp'];

export interface OutputWatcherOptions {
  /** Folders to watch (not their subfolders); a folder that does not exist yet is waited for. */
  folders: readonly string[];
  /** Receives the newest finished image, at most once per `debounceMs`. */
  onImage: (imagePath: string) => void;
  /** Which endings count as images. @default IMAGE_EXTENSIONS */
  extensions?: readonly string[];
  /** A file counts as written once its size has not changed for this long. @default 300 */
  stabilityMs?: number;
  /** Images seen within this long are one batch; only the newest of a batch is passed on. @default 250 */
  debounceMs?: number;
  /** How often a missing folder is looked for. @default 500 */
  pollMissingMs?: number;
  onError?: (error: unknown) => void;
}

/** Watches a task's output folders for previews. */
export interface OutputWatcher {
  /** An image reported another way (Blender's `Saved:` line); the watcher will not repeat it. */
  offer(imagePath: string): void;
  /**
   * Stops watching. With `flush`, first waits for images still being written to settle and passes
   * the newest on, so the task's last frame is not lost.
   */
  close(options?: { flush?: boolean }): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates the output watcher (chokidar, one folder deep). Files that existed before it started are
 * ignored; a folder created later (a render makes its own) is watched from its first file. Writes
 * in progress are skipped until their size is stable (`awaitWriteFinish`), and a burst of frames
 * becomes one preview: the first image of a batch starts a `debounceMs` timer (not reset by later
 * ones, so a steady stream still yields a preview per period), and the newest image of the batch
 * is passed on. The same file with the same size and time is passed on once, however it is seen.
 */
export function createOutputWatcher(options: OutputWatcherOptions): OutputWatcher {
  const extensions = new Set((options.extensions ?? IMAGE_EXTENSIONS).map((e) => e.toLowerCase()));
  const stabilityMs = options.stabilityMs ?? 300;
  const debounceMs = options.debounceMs ?? 250;
  const pollMissingMs = options.pollMissingMs ?? 500;
  const onError = options.onError ?? (() => undefined);
  const watchers: FSWatcher[] = [];
  const missing = new Set(options.folders);
  const passedOn = new Map<string, string>();
  let newest: string | undefined;
  let newestMtimeMs = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const isImage = (file: string): boolean => extensions.has(path.extname(file).toLowerCase());
  const identity = (stats: Stats | undefined): string =>
    stats ? `${stats.size}:${stats.mtimeMs}` : 'unknown';

  const fire = (): void => {
    clearTimeout(timer);
    timer = undefined;
    const file = newest;
    newest = undefined;
    if (file !== undefined && !closed) options.onImage(file);
  };

  const seen = (file: string, stats: Stats | undefined): void => {
    if (closed || !isImage(file)) return;
    const id = identity(stats);
    if (passedOn.get(file) === id) return;
    passedOn.set(file, id);
    // Newest by modification time: events of one batch may arrive out of order.
    const mtimeMs = stats?.mtimeMs ?? Date.now();
    if (newest === undefined || mtimeMs >= newestMtimeMs) {
      newest = file;
      newestMtimeMs = mtimeMs;
    }
    timer ??= setTimeout(fire, debounceMs);
  };

  const watch = (folder: string, ignoreInitial: boolean): void => {
    const watcher = chokidar.watch(folder, {
      ignoreInitial,
      depth: 0,
      alwaysStat: true,
      awaitWriteFinish: {
        stabilityThreshold: stabilityMs,
        pollInterval: Math.min(100, stabilityMs),
      },
    });
    // chokidar holds back unfinished writes only after its first scan; files found by that scan
    // (in a folder that appeared during the task) are checked for a stable size here.
    let scanned = false;
    watcher.on('ready', () => (scanned = true));
    watcher.on('add', (file, stats) => (scanned ? seen(file, stats) : void whenStable(file)));
    watcher.on('change', (file, stats) => seen(file, stats));
    watcher.on('error', onError);
    watchers.push(watcher);
  };

  const whenStable = async (file: string): Promise<void> => {
    const pollMs = Math.min(100, stabilityMs);
    let last = '';
    let since = Date.now();
    while (!closed) {
      const stats = await stat(file).catch(() => undefined);
      if (stats === undefined) return;
      const id = identity(stats);
      if (id !== last) {
        last = id;
        since = Date.now();
      } else if (Date.now() - since >= stabilityMs) {
        seen(file, stats);
        return;
      }
      await sleep(pollMs);
    }
  };

  const lookForMissing = (): void => {
    for (const folder of missing) {
      if (!existsSync(folder)) continue;
      missing.delete(folder);
      // Everything in a folder that appeared during the task is new.
      watch(folder, false);
    }
  };
  for (const folder of options.folders) {
    if (existsSync(folder)) {
      missing.delete(folder);
      watch(folder, true);
    }
  }
  const poller = missing.size > 0 ? setInterval(lookForMissing, pollMissingMs) : undefined;

  return {
    offer(imagePath) {
      let stats: Stats | undefined;
      try {
        stats = statSync(imagePath);
      } catch {
        stats = undefined;
      }
      seen(path.resolve(imagePath), stats);
    },
    async close(closeOptions = {}) {
      if (closed) return;
      clearInterval(poller);
      if (closeOptions.flush) {
        lookForMissing();
        // A frame finished just now is reported once its size has been stable.
        if (watchers.length > 0) await sleep(stabilityMs + 2 * Math.min(100, stabilityMs) + 50);
        fire();
      }
      closed = true;
      clearTimeout(timer);
      await Promise.all(watchers.map((watcher) => watcher.close()));
    },
  };
}
