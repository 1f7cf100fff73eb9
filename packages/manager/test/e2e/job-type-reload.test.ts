import fs from 'node:fs';
import path from 'node:path';
import { startTestManager, type TestManager } from '../support/test-manager';

const SCRIPT = `
const JOB_TYPE = { label: 'Studio Echo', settings: [{ key: 'text', type: 'string', required: true }] };
function compileJob(job) {
  const task = author.Task('say', 'misc');
  task.addCommand(author.Command('echo', { message: job.settings.text }));
  job.addTask(task);
}
`;

// A TD drops a job-type script into the manager's job-types folder; it is offered and usable
// without a restart, and a broken edit does not take the working definition away.
describe('job types folder', () => {
  let farm: TestManager;
  beforeAll(async () => {
    farm = await startTestManager('pglite');
  }, 120_000);
  afterAll(() => farm?.stop());

  const jobType = async (name: string) => {
    const response = await fetch(`${farm.url}/api/v1/job-types/${name}`, {
      headers: { Authorization: `Bearer ${farm.adminToken}` },
    });
    return { status: response.status, body: (await response.json()) as { label?: string } };
  };

  const eventually = async <T>(check: () => Promise<T | undefined>, what: string): Promise<T> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  it('offers a new script without a restart and compiles jobs with it', async () => {
    expect((await jobType('studio-echo')).status).toBe(404);
    fs.writeFileSync(path.join(farm.manager.config.jobTypesDir, 'studio_echo.js'), SCRIPT);
    const loaded = await eventually(async () => {
      const found = await jobType('studio-echo');
      return found.status === 200 ? found.body : undefined;
    }, 'the new job type');
    expect(loaded.label).toBe('Studio Echo');

    const submitted = await fetch(`${farm.url}/api/v1/jobs`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${farm.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'reloaded', type: 'studio-echo', settings: { text: 'hi' } }),
    });
    expect(submitted.status).toBe(201);
  });

  it('picks up an edit, and keeps the last good definition when an edit is broken', async () => {
    const file = path.join(farm.manager.config.jobTypesDir, 'studio_echo.js');
    fs.writeFileSync(file, SCRIPT.replace("'Studio Echo'", "'Studio Echo 2'"));
    await eventually(async () => {
      const found = await jobType('studio-echo');
      return found.body.label === 'Studio Echo 2' ? true : undefined;
    }, 'the edited label');

    fs.writeFileSync(file, 'const JOB_TYPE = { label: ');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const afterBrokenEdit = await jobType('studio-echo');
    expect(afterBrokenEdit.status).toBe(200);
    expect(afterBrokenEdit.body.label).toBe('Studio Echo 2');
  });
});
