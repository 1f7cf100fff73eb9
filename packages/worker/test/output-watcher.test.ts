import { mkdirSync, openSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { blenderOutputFolder, previewFolders } from '../src/commands';
import { createOutputWatcher, type OutputWatcher } from '../src/output-watcher';
import { makeTempDir, waitFor } from './fixtures/processes';
import { solidPng } from './fixtures/png';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('output watcher', () => {
  let watcher: OutputWatcher | undefined;
  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
  });

  const start = (folders: string[]) => {
    const seen: string[] = [];
    watcher = createOutputWatcher({
      folders,
      onImage: (file) => seen.push(file),
      stabilityMs: 200,
      debounceMs: 250,
      pollMissingMs: 50,
    });
    return seen;
  };

  it('passes on only the newest image of a burst, ignoring files from before and non-images', async () => {
    const dir = makeTempDir('watch');
    writeFileSync(path.join(dir, 'old.png'), solidPng(4, 4, [1, 2, 3]));
    const seen = start([dir]);
    await sleep(300); // let chokidar take its first look
    for (let i = 1; i <= 5; i++)
      writeFileSync(path.join(dir, `frame_${i}.png`), solidPng(8, 8, [i, 0, 0]));
    writeFileSync(path.join(dir, 'notes.txt'), 'not an image');
    await waitFor(() => seen.length > 0, 5000);
    await sleep(600);
    expect(seen).toEqual([path.join(dir, 'frame_5.png')]);
  });

  it('waits for a folder the task creates, and for a file still being written', async () => {
    const root = makeTempDir('watch');
    const dir = path.join(root, 'renders', 'shot');
    const seen = start([dir]);
    await sleep(150);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'frame_0001.png');
    const image = solidPng(64, 64, [200, 10, 10]);
    const fd = openSync(file, 'w');
    // Half the file, a pause longer than the debounce, then the rest: no preview of half a PNG.
    writeSync(fd, image.subarray(0, 40));
    for (let i = 0; i < 4; i++) {
      await sleep(120);
      writeSync(fd, Buffer.alloc(1)); // still growing
    }
    expect(seen).toEqual([]);
    writeSync(fd, image.subarray(40));
    closeSync(fd);
    await waitFor(() => seen.length > 0, 5000);
    expect(seen).toEqual([file]);
  });

  it('passes a frame reported by Blender once, even when the watcher sees it too', async () => {
    const dir = makeTempDir('watch');
    const seen = start([dir]);
    await sleep(300);
    const file = path.join(dir, 'frame_0001.png');
    writeFileSync(file, solidPng(8, 8, [9, 9, 9]));
    watcher!.offer(file);
    await waitFor(() => seen.length > 0, 5000);
    await sleep(700);
    expect(seen).toEqual([file]);
  });

  it('reports the last frame on a flushing close', async () => {
    const dir = makeTempDir('watch');
    const seen = start([dir]);
    await sleep(300);
    writeFileSync(path.join(dir, 'last.png'), solidPng(8, 8, [1, 1, 1]));
    await watcher!.close({ flush: true });
    expect(seen).toEqual([path.join(dir, 'last.png')]);
  });
});

describe('preview folders', () => {
  const blender = (args: string[], extra: Record<string, unknown> = {}) => ({
    name: 'blender-render',
    parameters: { exe: 'blender', blendfile: '/proj/shot.blend', args, ...extra },
  });

  it('takes the folder of --render-output, Blender`s // from the blend file, outputDir first', () => {
    expect(
      previewFolders(
        [
          blender(['--render-output', '/render/shot/frame_######', '--render-frame', '1..3']),
          blender(['-o', '//out/', '-f', '1']),
          { name: 'exec', parameters: { exe: 'denoise', outputDir: 'denoised' } },
          blender(['-o', '/x/####'], { outputDir: '/y' }),
          { name: 'echo', parameters: { message: 'hi' } },
          blender(['-f', '1']),
        ],
        '/work',
      ),
    ).toEqual(['/render/shot', '/proj/out', '/work/denoised', '/y']);
  });

  it('names no folder when the pattern puts frame numbers in a folder name', () => {
    expect(
      blenderOutputFolder(
        { exe: 'blender', blendfile: '/a.blend', args: ['-o', '/r/####/img'] },
        '/work',
      ),
    ).toBeUndefined();
  });
});
