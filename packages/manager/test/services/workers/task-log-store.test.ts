import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createTaskLogStore,
  formatManagerLine,
  type TaskLogStore,
} from '../../../src/storage/task-log-store';

const JOB = '0a1b2c3d-0000-4000-8000-000000000001';
const TASK = '1a1b2c3d-0000-4000-8000-000000000002';

describe('task log store', () => {
  let dir: string;
  let store: TaskLogStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farm-logs-'));
    store = createTaskLogStore({ dir, maxOpenStreams: 2, idleCloseMs: 50 });
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes to <dir>/logs/<jobId[0:2]>/<jobId>/<taskId>.log with trailing newlines', async () => {
    expect(await store.append(JOB, TASK, 'first')).toBe(6);
    await store.append(JOB, TASK, 'second\n');
    const file = path.join(dir, 'logs', '0a', JOB, `${TASK}.log`);
    expect(fs.readFileSync(file, 'utf8')).toBe('first\nsecond\n');
    expect(await store.size(JOB, TASK)).toBe(13);
  });

  it('keeps call order across many concurrent appends and across the LRU limit', async () => {
    const others = ['2', '3', '4'].map((d) => `${d}a1b2c3d-0000-4000-8000-00000000000${d}`);
    const writes: Promise<number>[] = [];
    for (let i = 0; i < 200; i++) {
      writes.push(store.append(JOB, TASK, `line ${i}`));
      writes.push(store.append(JOB, others[i % 3]!, `other ${i}`));
    }
    await Promise.all(writes);
    const { text } = await store.read(JOB, TASK);
    expect(text.split('\n').slice(0, -1)).toEqual(
      Array.from({ length: 200 }, (_, i) => `line ${i}`),
    );
  });

  it('reads a tail from a line boundary and byte ranges exactly', async () => {
    await store.append(JOB, TASK, 'aaaa\nbbbb\ncccc');
    const tail = await store.read(JOB, TASK, { tail: 7 });
    expect(tail).toEqual({ text: 'cccc\n', offset: 10, size: 15 });
    // A window that starts right after a newline keeps its first line.
    expect((await store.read(JOB, TASK, { tail: 10 })).text).toBe('bbbb\ncccc\n');
    expect(await store.read(JOB, TASK, { offset: 2, length: 5 })).toEqual({
      text: 'aa\nbb',
      offset: 2,
      size: 15,
    });
    expect((await store.read(JOB, TASK, { offset: 100, length: 5 })).text).toBe('');
  });

  it('reads an absent log as empty and deletes a job`s logs', async () => {
    expect(await store.read(JOB, TASK)).toEqual({ text: '', offset: 0, size: 0 });
    await store.append(JOB, TASK, 'x');
    await store.deleteJob(JOB);
    expect(fs.existsSync(path.join(dir, 'logs', '0a', JOB))).toBe(false);
    expect(await store.size(JOB, TASK)).toBe(0);
    // Appending after the delete recreates the file.
    await store.append(JOB, TASK, 'again');
    expect((await store.read(JOB, TASK)).text).toBe('again\n');
  });

  it('recreates a job folder that another replica removed on the shared storage', async () => {
    const other = '5a1b2c3d-0000-4000-8000-000000000005';
    await store.append(JOB, TASK, 'before');
    // Another manager on the same storage deletes the job: this store never hears of it.
    fs.rmSync(path.join(dir, 'logs', '0a', JOB), { recursive: true, force: true });
    await store.append(JOB, other, 'after');
    expect((await store.read(JOB, other)).text).toBe('after\n');
  });

  it('closes idle streams and still appends afterwards', async () => {
    await store.append(JOB, TASK, 'one');
    await new Promise((resolve) => setTimeout(resolve, 120));
    await store.append(JOB, TASK, 'two');
    expect((await store.read(JOB, TASK)).text).toBe('one\ntwo\n');
  });

  it('refuses ids that could leave the logs folder', async () => {
    await expect(store.append('../etc', TASK, 'x')).rejects.toThrow(/invalid job id/);
    expect(() => store.pathOf(JOB, '../../x')).toThrow(/invalid task id/);
  });

  it('formats manager lines with an ISO timestamp', () => {
    expect(formatManagerLine('Task assigned', new Date('2026-11-22T10:00:00Z'))).toBe(
      '2026-11-22T10:00:00.000Z [manager] Task assigned',
    );
  });
});
