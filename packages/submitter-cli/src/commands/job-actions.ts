import type { Command } from 'commander';
import { type ApiJobAction, type BulkJobActionResult, type Job } from '@farm/core';
import { unwrapCall, type CliContext } from '../context';
import { CliExit, exitCodeForErrorCode } from '../exit-codes';
import { addExamples, checkIds } from './command-helpers';

interface ActionOptions {
  reason?: string;
  failed?: boolean;
  json?: boolean;
}

const ACTIONS: Array<{ name: string; action: ApiJobAction; description: string; done: string }> = [
  {
    name: 'cancel',
    action: 'cancel',
    description: 'cancel jobs: running tasks are stopped, queued ones never start',
    done: 'cancel requested',
  },
  {
    name: 'pause',
    action: 'pause',
    description: 'pause jobs: running tasks are stopped and requeued, nothing new starts',
    done: 'pause requested',
  },
  { name: 'resume', action: 'resume', description: 'resume paused jobs', done: 'resumed' },
  {
    name: 'requeue',
    action: 'requeue',
    description: 'run jobs again: all their tasks, or with --failed only the failed ones',
    done: 'requeued',
  },
  {
    name: 'delete',
    action: 'delete',
    description: 'delete jobs with their tasks and logs',
    done: 'deleted',
  },
];

/** `farm cancel|pause|resume|requeue|delete ID...`. */
export function registerJobActionCommands(program: Command, ctx: CliContext): void {
  for (const spec of ACTIONS) {
    const command = program
      .command(spec.name)
      .description(spec.description)
      .argument('<ids...>', 'one or more job ids')
      .option('--reason <text>', "why (kept in the job's history)");
    if (spec.name === 'requeue') command.option('--failed', 'requeue only the failed tasks');
    command
      .option('--json', 'print the result as JSON')
      .action(async (ids: string[], options: ActionOptions, cmd: Command) => {
        checkIds('job', ids);
        const action: ApiJobAction =
          spec.action === 'requeue' && options.failed ? 'requeue-failed' : spec.action;
        await applyJobAction(ctx, cmd, [...new Set(ids)], action, spec.done, options);
      });
    addExamples(command, [
      `farm ${spec.name} 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b`,
      `farm ${spec.name} $(farm jobs --mine --status ${spec.name === 'resume' ? 'paused' : 'queued'} --json | jq -r '.[].id')`,
      ...(spec.name === 'requeue'
        ? ['farm requeue "$JOB" --failed --reason "fixed the texture path"']
        : []),
    ]);
  }
}

async function applyJobAction(
  ctx: CliContext,
  command: Command,
  ids: string[],
  action: ApiJobAction,
  done: string,
  options: ActionOptions,
): Promise<void> {
  const client = ctx.client(command);
  const extra = options.reason ? { reason: options.reason } : {};
  if (ids.length === 1) {
    const id = ids[0]!;
    const job: Job | undefined = await client.jobAction(id, action, extra);
    if (options.json) ctx.printJson(job ?? { id, deleted: true });
    else
      ctx.print(
        `${id}: ${done}${job && action !== 'delete' ? ` (now ${ctx.colors.status(job.status)})` : ''}`,
      );
    return;
  }
  // One request for many jobs: each succeeds or fails on its own, and all are reported.
  const result: BulkJobActionResult = await unwrapCall(
    client.POST('/api/v1/jobs/actions', { body: { jobIds: ids, action, ...extra } }),
  );
  if (options.json) ctx.printJson(result.results);
  let firstError: unknown;
  for (const item of result.results) {
    if (item.ok) {
      if (!options.json) {
        const status =
          item.job && action !== 'delete' ? ` (now ${ctx.colors.status(item.job.status)})` : '';
        ctx.print(`${item.jobId}: ${done}${status}`);
      }
    } else {
      const message = item.error?.message ?? 'failed';
      if (!options.json) ctx.note(`${item.jobId}: ${ctx.colors.red('failed')}: ${message}`);
      firstError ??= item.error;
    }
  }
  if (firstError !== undefined) {
    const failed = result.results.filter((item) => !item.ok).length;
    const code = exitCodeForErrorCode((firstError as { code?: string } | undefined)?.code);
    throw new CliExit(code, `${failed} of ${ids.length} jobs could not be changed`);
  }
}
