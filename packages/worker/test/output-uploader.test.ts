import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createOutputUploader } from '../src/output-uploader';
import { findProgram, makeTempDir, waitFor } from './fixtures/processes';

const ffmpeg = findProgram('ffmpeg');

function jpegWidth(bytes: Uint8Array): number {
  // Walk the JPEG markers to the start-of-frame segment, which holds the size.
  let i = 2;
  while (i < bytes.length) {
    const marker = bytes[i + 1]!;
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (marker >= 0xc0 && marker <= 0xc3) return (bytes[i + 7]! << 8) | bytes[i + 8]!;
    i += 2 + length;
  }
  return -1;
}

describe('output uploader', () => {
  (ffmpeg ? it : it.skip)('downscales a wide render to a JPEG at most 1920 px wide', async () => {
    const dir = makeTempDir('preview');
    const png = path.join(dir, 'wide.png');
    execFileSync(ffmpeg!, [
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=2560x200',
      '-frames:v',
      '1',
      png,
    ]);
    const uploads: Array<{ bytes: Uint8Array; type: string }> = [];
    const uploader = createOutputUploader({
      ffmpeg,
      upload: (_taskId, bytes, type) => {
        uploads.push({ bytes, type });
        return Promise.resolve();
      },
    });
    uploader.offer('t', png);
    await waitFor(() => uploads.length === 1, 10_000);
    expect(uploads[0]!.type).toBe('image/jpeg');
    expect(jpegWidth(uploads[0]!.bytes)).toBe(1920);
    await uploader.close();
  });

  it('sends the newest image and skips the ones that were replaced while it was busy', async () => {
    const dir = makeTempDir('preview');
    const files = [1, 2, 3, 4].map((n) => {
      const file = path.join(dir, `frame-${n}.png`);
      writeFileSync(file, Buffer.from(`png ${n}`));
      return file;
    });
    const sent: string[] = [];
    let release!: () => void;
    const uploader = createOutputUploader({
      upload: async (_taskId, bytes) => {
        sent.push(Buffer.from(bytes).toString());
        if (sent.length === 1) await new Promise<void>((r) => (release = r));
      },
    });
    uploader.offer('t', files[0]!);
    await waitFor(() => sent.length === 1);
    for (const file of files.slice(1)) uploader.offer('t', file);
    release();
    // What a task waits for before it reports its end: the newest image is sent by then.
    await uploader.settled();
    expect(sent).toEqual(['png 1', 'png 4']);
    await uploader.close();
  });
});
