import { createJobType } from './create-job-type';
import type { JobType } from './job-type-types';

/** A job type from inline source, for tests. */
export function jobTypeFromSource(
  source: string,
  name = 'inline-test',
  timeoutMs?: number,
): JobType {
  return createJobType({ name, source, timeoutMs });
}

/** A script declaring the given settings, whose compileJob body is `body`. */
export function scriptWith(body: string, settings = '[]', extra = ''): string {
  return `const JOB_TYPE = { label: 'Inline', settings: ${settings} };\n${extra}\nfunction compileJob(job) {\n${body}\n}\n`;
}

/** The simplest valid body: one echo task. */
export const ONE_ECHO_TASK = `
  const t = author.Task('only', 'misc');
  t.addCommand(author.Command('echo', { message: 'x' }));
  job.addTask(t);`;
