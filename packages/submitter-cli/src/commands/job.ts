import type { Command } from 'commander';
import { TASK_STATUSES, type Job } from '@farm/core';
import type { CliContext } from '../context';
import { watchJob } from '../live/watch-job';
import { formatFields } from '../output/format-table';
import { formatAgo, formatLocalTime } from '../output/format-time';
import { addExamples, checkIds } from './command-helpers';

/** `farm job ID` and `farm watch ID`. */
export function registerJobCommands(program: Command, ctx: CliContext): void {
  addExamples(
    program
      .command('job')
      .description('show one job: status, progress, task counts, settings')
      .argument('<id>', 'the job id')
      .option('--json', 'print the job as JSON')
      .action(async (id: string, options: { json?: boolean }, command: Command) => {
        checkIds('job', [id]);
        const job = await ctx.client(command).getJob(id);
        if (options.json) ctx.printJson(job);
        else ctx.print(formatJob(job, ctx));
      }),
    ['farm job 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', 'farm job "$JOB" --json'],
  );

  addExamples(
    program
      .command('watch')
      .description(
        'follow a job live with a progress bar; exit code 0 when it completes, 3 when it fails, 4 when it is canceled',
      )
      .argument('<id>', 'the job id')
      .action(async (id: string, _options: unknown, command: Command) => {
        checkIds('job', [id]);
        const client = ctx.client(command);
        const { url, token } = ctx.connection(command);
        await watchJob(ctx, client, { url, token: token ?? '' }, id);
      }),
    [
      'farm watch 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b',
      'farm watch "$JOB" && echo "rendered" || echo "failed or canceled: $?"',
    ],
  );
}

/** The details of a job as label/value lines. */
export function formatJob(job: Job, ctx: Pick<CliContext, 'colors' | 'io'>): string {
  const now = ctx.io.now();
  const counts = job.taskCounts;
  const perStatus = TASK_STATUSES.filter((status) => counts[status] > 0)
    .map((status) => `${counts[status]} ${ctx.colors.status(status)}`)
    .join(', ');
  const fields: Array<[string, string]> = [
    ['job', `${ctx.colors.bold(job.name)} (${job.id})`],
    ['type', job.type],
    ['status', ctx.colors.status(job.status) + (job.activity ? ` - ${job.activity}` : '')],
    [
      'progress',
      `${Math.round(job.progress * 100)}% (${counts.completed}/${counts.total} tasks done)`,
    ],
    ['tasks', `${perStatus || 'none'} (total ${counts.total})`],
    ['priority', String(job.priority)],
    ['project', job.project.name],
    ['submitter', job.submitter?.name ?? '-'],
    ['created', `${formatLocalTime(job.created)} (${formatAgo(job.created, now)})`],
    ['updated', `${formatLocalTime(job.updated)} (${formatAgo(job.updated, now)})`],
  ];
  if (job.requiredTags.length > 0) fields.push(['tags', job.requiredTags.join(', ')]);
  if (job.maxWorkers !== null) fields.push(['max workers', String(job.maxWorkers)]);
  if (job.notBefore) fields.push(['not before', formatLocalTime(job.notBefore)]);
  if (job.dependsOnJobs?.length) fields.push(['waits for', job.dependsOnJobs.join(', ')]);
  const metadata = Object.entries(job.metadata);
  if (metadata.length > 0)
    fields.push(['metadata', metadata.map(([k, v]) => `${k}=${v}`).join(', ')]);
  fields.push(['actions', job.allowedActions.join(', ') || '-']);
  const settings = Object.entries(job.settings).map(
    ([key, value]) => `  ${key} = ${JSON.stringify(value)}`,
  );
  return formatFields(fields) + (settings.length > 0 ? `settings:\n${settings.join('\n')}\n` : '');
}
