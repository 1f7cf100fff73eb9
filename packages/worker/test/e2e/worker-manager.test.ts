// End to end: the real manager and a real `farm-worker` process, talking over the network.
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createFarmClient, type FarmClient, type TaskSummary } from '@farm/core';
import { findProgram, isRunning, makeTempDir, waitFor } from '../fixtures/processes';
import { solidPng } from '../fixtures/png';
import {
  eventually,
  freePort,
  prepareBuild,
  retryingFetch,
  startManager,
  startWorker,
  type ChildHandle,
  type ManagerProcess,
} from '../support/e2e';

const SECRET = 'e2e-registration-secret';

/** The size in a JPEG's start-of-frame segment. */
function jpegSize(bytes: Buffer): { width: number; height: number } | undefined {
  let i = 2;
  while (i + 8 < bytes.length) {
    const marker = bytes[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xc3)
      return { height: bytes.readUInt16BE(i + 5), width: bytes.readUInt16BE(i + 7) };
    i += 2 + bytes.readUInt16BE(i + 2);
  }
  return undefined;
}
const unavailable = prepareBuild();
if (unavailable !== undefined) console.log(`skipping the worker end-to-end tests: ${unavailable}`);
const suite = unavailable === undefined ? describe : describe.skip;

jest.setTimeout(120_000);

suite('worker with the real manager', () => {
  let port: number;
  let managerDir: string;
  let manager: ManagerProcess;
  let client: FarmClient;
  const workers: ChildHandle[] = [];

  const tasksOf = async (jobId: string): Promise<TaskSummary[]> =>
    (await client.listJobTasks(jobId, { limit: 1000 })).items;
  const logOf = async (taskId: string): Promise<string> => (await client.getTaskLog(taskId)).text;
  const worker = (name = 'e2e-worker'): ChildHandle => {
    const handle = startWorker({
      managerUrl: manager.url,
      dataDir: makeTempDir('e2e-worker'),
      secret: SECRET,
      name,
    });
    workers.push(handle);
    return handle;
  };
  const submitShell = (name: string, command: string) =>
    client.submitJob({
      name,
      type: 'shell-frames',
      settings: { command, frames: '1', chunk_size: 1 },
    });
  const activeTask = (jobId: string) =>
    eventually(
      async () => (await tasksOf(jobId)).find((t) => t.status === 'active'),
      30_000,
      'an active task',
    );
  const pidIn = (taskId: string) =>
    eventually(
      async () => {
        const match = /pid=(\d+)/.exec(await logOf(taskId));
        return match ? Number(match[1]) : undefined;
      },
      30_000,
      'the program to print its pid',
    );

  // What the tasks, their logs and the workers say, for a failure message.
  const explainJob = (jobId: string) => async (): Promise<string> => {
    const tasks = await tasksOf(jobId);
    const logs = await Promise.all(
      tasks.map(async (t) => `${t.name} ${t.status}\n${await logOf(t.id)}`),
    );
    const workerLines = workers.map((w) => w.output.slice(-30).join('\n'));
    return [`job ${(await client.getJob(jobId)).status}`, ...logs, ...workerLines].join('\n---\n');
  };

  beforeAll(async () => {
    port = await freePort();
    managerDir = makeTempDir('e2e-manager');
    manager = await startManager({ port, dataDir: managerDir, secret: SECRET });
    client = createFarmClient({
      url: manager.url,
      token: manager.adminToken,
      fetch: retryingFetch,
    });
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop('SIGTERM')));
  });

  afterAll(async () => {
    await manager?.stop('SIGTERM');
  });

  it('runs an echo-sleep-test job to completion with its log visible through the API', async () => {
    const w = worker();
    const job = await client.submitJob({
      name: 'e2e echo',
      type: 'echo-sleep-test',
      settings: { message: 'hello from e2e', sleep_duration_seconds: 1, sleep_repeats: 2 },
    });
    await eventually(
      async () => ((await client.getJob(job.id)).status === 'completed' ? true : undefined),
      60_000,
      'the job to complete',
    );
    const tasks = await tasksOf(job.id);
    expect(tasks.map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);
    expect(tasks.every((t) => t.worker?.name === 'e2e-worker')).toBe(true);
    const echo = tasks.find((t) => t.name === 'echo')!;
    expect(await logOf(echo.id)).toContain('echo: hello from e2e');
    expect(w.child.exitCode).toBeNull();
    // Every update was accepted: nothing refused, nothing left waiting.
    expect(w.output.join('\n')).not.toMatch(/refused|dropped|stay queued/);
  });

  (findProgram('blender') && findProgram('ffmpeg') ? it : it.skip)(
    'renders a small Blender scene to PNG frames and a preview video, with progress and logs',
    async () => {
      const w = worker();
      const dir = makeTempDir('e2e-blender');
      const blendfile = path.join(dir, 'scene.blend');
      const make = spawnSync(
        'blender',
        [
          '-b',
          '--factory-startup',
          '--python-expr',
          [
            'import bpy',
            's = bpy.context.scene',
            "s.render.engine = 'CYCLES'",
            's.cycles.samples = 1',
            // Debian's Blender has no OpenImageDenoise.
            's.cycles.use_denoising = False',
            's.render.resolution_x = 64',
            's.render.resolution_y = 48',
            's.frame_start = 1',
            's.frame_end = 3',
            `bpy.ops.wm.save_as_mainfile(filepath=${JSON.stringify(blendfile)})`,
          ].join('; '),
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      expect(make.status).toBe(0);
      const root = path.join(dir, 'renders');
      const job = await client.submitJob({
        name: 'e2e-blend',
        type: 'simple-blender-render',
        settings: {
          frames: '1-3',
          chunk_size: 1,
          render_output_root: root,
          add_path_components: 0,
          render_output_path: path.join(root, 'e2e-blend', '{timestamp}', '######'),
          blendfile,
          fps: 24,
          format: 'PNG',
          image_file_extension: '.png',
          has_previews: false,
          images_or_video: 'images',
        },
      });
      const status = await eventually(
        async () => {
          const { status } = await client.getJob(job.id);
          return status === 'completed' || status === 'failed' ? status : undefined;
        },
        100_000,
        'the render job to end',
      );
      if (status !== 'completed') {
        const report = await Promise.all(
          (await tasksOf(job.id)).map(async (t) => `${t.name} ${t.status}\n${await logOf(t.id)}`),
        );
        throw new Error(`the render job ${status}:\n${report.join('\n')}`);
      }
      const [finalDir] = readdirSync(path.join(root, 'e2e-blend')).map((d) =>
        path.join(root, 'e2e-blend', d),
      );
      const files = readdirSync(finalDir!);
      expect(files.filter((f) => f.endsWith('.png')).sort()).toEqual([
        '000001.png',
        '000002.png',
        '000003.png',
      ]);
      expect(files.some((f) => f.endsWith('.mp4'))).toBe(true);
      const tasks = await tasksOf(job.id);
      const render = tasks.find((t) => t.name === 'render-2')!;
      expect(render.progress).toBe(1);
      const log = await logOf(render.id);
      expect(log).toMatch(/Saved: '.*000002\.png'/);
      // The rendered frames reached the manager as downscaled JPEG previews.
      expect(w.output.join('\n')).toMatch(
        /preview of task \S+ uploaded \(\d+ bytes, image\/jpeg\)/,
      );
      expect(w.output.join('\n')).not.toMatch(/preview upload/);
      // ... and the manager made the job's last-rendered thumbnails from them.
      const auth = { Authorization: `Bearer ${manager.adminToken}` };
      const info = await eventually(
        async () => {
          const res = await fetch(`${manager.url}/api/v1/jobs/${job.id}/last-rendered`, {
            headers: auth,
          });
          return res.status === 200
            ? ((await res.json()) as { images: { small: string } })
            : undefined;
        },
        30_000,
        'the job`s last-rendered image',
      );
      const thumb = await fetch(`${manager.url}${info.images.small}`, { headers: auth });
      expect(thumb.status).toBe(200);
      expect(thumb.headers.get('content-type')).toBe('image/jpeg');
      const bytes = Buffer.from(await thumb.arrayBuffer());
      expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);
      // The 64x48 frame, never enlarged (its size depends on Blender's render percentage).
      const size = jpegSize(bytes)!;
      expect(size.width).toBeLessThanOrEqual(64);
      expect(size.width * 3).toBe(size.height * 4);
    },
    120_000,
  );

  it('previews the newest image any program writes to its output folder, as the job`s thumbnail', async () => {
    // A job type whose program is not Blender: it copies three frames into `outputDir`.
    writeFileSync(
      path.join(managerDir, 'job-types', 'previews-e2e.js'),
      `const JOB_TYPE = {
        label: 'Previews e2e',
        settings: [
          { key: 'src', type: 'string', required: true },
          { key: 'out', type: 'string', required: true },
        ],
      };
      function compileJob(job) {
        const s = job.settings;
        const task = author.Task('frames', 'misc');
        task.addCommand(author.Command('exec', {
          exe: 'sh',
          args: ['-c', "mkdir -p '" + s.out + "' && cp '" + s.src + "'/*.png '" + s.out + "'/ && sleep 2"],
          outputDir: s.out,
        }));
        job.addTask(task);
      }`,
    );
    await eventually(
      () =>
        client.getJobType('previews-e2e').then(
          () => true,
          () => undefined,
        ),
      30_000,
      'the job type to load',
    );
    const src = makeTempDir('e2e-frames');
    [40, 80, 120].forEach((width, i) =>
      writeFileSync(
        path.join(src, `frame_${i + 1}.png`),
        solidPng(width, (width * 3) / 4, [200, 0, 0]),
      ),
    );
    const out = path.join(makeTempDir('e2e-out'), 'frames');
    worker();
    const job = await client.submitJob({
      name: 'e2e previews',
      type: 'previews-e2e',
      settings: { src, out },
    });
    await eventually(
      async () => ((await client.getJob(job.id)).status === 'completed' ? true : undefined),
      60_000,
      'the job to complete',
      explainJob(job.id),
    );
    const auth = { Authorization: `Bearer ${manager.adminToken}` };
    const info = await eventually(
      async () => {
        const res = await fetch(`${manager.url}/api/v1/jobs/${job.id}/last-rendered`, {
          headers: auth,
        });
        return res.status === 200
          ? ((await res.json()) as { images: { small: string } })
          : undefined;
      },
      30_000,
      'the job`s last-rendered image',
    );
    const thumb = await fetch(`${manager.url}${info.images.small}`, { headers: auth });
    expect(thumb.headers.get('content-type')).toBe('image/jpeg');
    // The newest frame (120x90), not an earlier one.
    expect(jpegSize(Buffer.from(await thumb.arrayBuffer()))).toEqual({ width: 120, height: 90 });
  });

  it('soft-fails a task whose command fails, and another worker then runs it', async () => {
    worker('e2e-a');
    worker('e2e-b');
    const marker = path.join(makeTempDir('e2e-fail'), 'failed-once');
    // Fails the first time it runs (anywhere), succeeds the second time.
    const job = await submitShell(
      'e2e soft-fail',
      `sh -c 'if [ -e ${marker} ]; then echo second try; else touch ${marker}; echo first try fails; exit 3; fi'`,
    );
    const done = await eventually(
      async () => {
        const [t] = await tasksOf(job.id);
        return t && t.status === 'completed' ? t : undefined;
      },
      60_000,
      'the task to complete on the second worker',
      explainJob(job.id),
    );
    const log = await logOf(done.id);
    const failedOn = /Task failed on worker (e2e-[ab])/.exec(log)?.[1];
    expect(failedOn).toBeDefined();
    // Output lines, not the logged command line that mentions both.
    const first = log.search(/^first try fails$/m);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(log).toContain('exited with code 3');
    expect(log.search(/^second try$/m)).toBeGreaterThan(first);
    expect(done.worker?.name).toBe(failedOn === 'e2e-a' ? 'e2e-b' : 'e2e-a');
  });

  it('kills the running program within a second of a cancel', async () => {
    worker();
    const job = await submitShell('e2e cancel', "sh -c 'echo pid=$$; exec sleep 60'");
    const task = await activeTask(job.id);
    const pid = await pidIn(task.id);
    expect(isRunning(pid)).toBe(true);
    const canceledAt = Date.now();
    await client.jobAction(job.id, 'cancel');
    await waitFor(() => !isRunning(pid), 5000);
    expect(Date.now() - canceledAt).toBeLessThan(1000);
    // The worker reports the stop, so the job settles instead of waiting in cancel-requested.
    const settled = await eventually(
      async () => {
        const current = await client.getJob(job.id);
        return current.status === 'canceled' ? current : undefined;
      },
      10_000,
      'the job to reach canceled',
    );
    expect(settled.taskCounts.active).toBe(0);
  });

  it('hands its task back at once on SIGINT, so the manager requeues it', async () => {
    const w = worker();
    const job = await submitShell('e2e sigint', "sh -c 'echo pid=$$; exec sleep 60'");
    const task = await activeTask(job.id);
    const pid = await pidIn(task.id);
    const signaledAt = Date.now();
    w.child.kill('SIGINT');
    expect(await w.exited).toBe(0);
    expect(isRunning(pid)).toBe(false);
    const requeued = await eventually(
      async () => {
        const t = (await tasksOf(job.id)).find((x) => x.id === task.id);
        return t && t.status === 'queued' ? t : undefined;
      },
      5000,
      'the task to be queued again',
    );
    expect(requeued.status).toBe('queued');
    // At once, not after a task timeout.
    expect(Date.now() - signaledAt).toBeLessThan(5000);
    const workersNow = await client.listWorkers();
    expect(workersNow.find((x) => x.name === 'e2e-worker')?.status).toBe('offline');
    await client.jobAction(job.id, 'cancel');
  });

  it('finishes its task while the manager is down and delivers every log line and the completion in order', async () => {
    worker();
    const lines = 40;
    const job = await submitShell(
      'e2e manager down',
      `sh -c 'echo pid=$$; i=1; while [ $i -le ${lines} ]; do echo line-$i; i=$((i+1)); sleep 0.1; done'`,
    );
    const task = await activeTask(job.id);
    await pidIn(task.id);
    // The manager stops mid-task and comes back on the same port and data folder later.
    await manager.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 6000));
    manager = await startManager({ port, dataDir: managerDir, secret: SECRET });
    client = createFarmClient({
      url: manager.url,
      token: manager.adminToken,
      fetch: retryingFetch,
    });
    const done = await eventually(
      async () => {
        const t = (await tasksOf(job.id)).find((x) => x.id === task.id);
        return t && t.status === 'completed' ? t : undefined;
      },
      60_000,
      'the task to complete',
    );
    expect(done.status).toBe('completed');
    const log = await logOf(task.id);
    let at = -1;
    for (let i = 1; i <= lines; i++) {
      const next = log.indexOf(`line-${i}\n`, at + 1);
      expect(next).toBeGreaterThan(at);
      at = next;
    }
  });
});
