import type { CommandExecutor } from '../src/commands';
import type { AssignedTask, TaskUpdateBody } from '../src/protocol';
import { runTask } from '../src/run-task';
import { makeTempDir } from './fixtures/processes';

const task = (commands: AssignedTask['commands'], steps?: number): AssignedTask => ({
  id: '00000000-0000-4000-8000-000000000001',
  jobId: '00000000-0000-4000-8000-000000000002',
  jobName: 'job',
  jobPriority: 50,
  jobType: 'test',
  name: 'task',
  type: 'misc',
  index: 0,
  priority: 50,
  commands,
  ...(steps === undefined ? {} : { steps }),
});

// A command that reports progress 100 times over half a second, then says which frame it saved.
const chatty: CommandExecutor = async (_params, ctx) => {
  for (let i = 1; i <= 100; i++) {
    ctx.progress({ fraction: i / 100, activity: `frame ${i}`, stepsDone: i === 100 ? 1 : 0 });
    await new Promise((r) => setTimeout(r, 5));
  }
  ctx.log('Saved: frame');
};

describe('runTask', () => {
  it('throttles progress to about four updates a second and always sends the last one', async () => {
    const updates: TaskUpdateBody[] = [];
    const outcome = await runTask({
      task: task([{ name: 'echo', parameters: { message: 'x' }, steps: 1 }], 1),
      report: (u) => updates.push(u),
      signal: new AbortController().signal,
      workDir: makeTempDir('run-task'),
      // Validation only knows the built-in names, so the chatty executor stands in for `echo`.
      registry: new Map([['echo', chatty]]),
    });
    expect(outcome).toEqual({ outcome: 'completed' });
    const progress = updates.filter((u) => u.progress !== undefined && u.status === undefined);
    // ~0.6 s of work at most 4/s, plus the first and the last.
    expect(progress.length).toBeLessThanOrEqual(5);
    expect(updates.some((u) => u.activity === 'frame 100')).toBe(true);
    expect(updates[updates.length - 1]).toMatchObject({
      status: 'completed',
      progress: 1,
      stepsDone: 1,
    });
    expect(updates[0]).toMatchObject({ status: 'active' });
  });

  it('stops without a final status when aborted', async () => {
    const updates: TaskUpdateBody[] = [];
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('job canceled')), 50);
    const outcome = await runTask({
      task: task([{ name: 'sleep', parameters: { duration_in_seconds: 10 } }]),
      report: (u) => updates.push(u),
      signal: controller.signal,
      workDir: makeTempDir('run-task'),
    });
    expect(outcome).toEqual({ outcome: 'stopped', reason: 'job canceled' });
    expect(updates.filter((u) => u.status !== undefined).map((u) => u.status)).toEqual(['active']);
    expect(updates.map((u) => u.log ?? '').join('')).toContain('task stopped: job canceled');
  });

  it('fails on an unknown command with a message naming it', async () => {
    const updates: TaskUpdateBody[] = [];
    const outcome = await runTask({
      task: task([{ name: 'teleport', parameters: {} }]),
      report: (u) => updates.push(u),
      signal: new AbortController().signal,
      workDir: makeTempDir('run-task'),
    });
    expect(outcome.outcome).toBe('failed');
    expect(updates[updates.length - 1]!.failureReason).toContain('teleport');
  });
});
