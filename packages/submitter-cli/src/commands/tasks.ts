import type { Command } from 'commander';
import { TASK_STATUSES, type ApiTaskStatus, type TaskSummary } from '@farm/core';
import type { CliContext } from '../context';
import { formatAgo } from '../output/format-time';
import { formatTable, truncate } from '../output/format-table';
import { addExamples, checkChoice, checkIds, collectList, parseIntOption } from './command-helpers';

interface TasksOptions {
  status?: string[];
  limit: number;
  json?: boolean;
}

/** `farm tasks JOB`. */
export function registerTasksCommand(program: Command, ctx: CliContext): void {
  addExamples(
    program
      .command('tasks')
      .description("list a job's tasks in order, with status, worker and progress")
      .argument('<job-id>', 'the job id')
      .option(
        '--status <status>',
        `only these statuses, comma-separated or repeated (${TASK_STATUSES.join(', ')})`,
        collectList,
      )
      .option(
        '--limit <n>',
        'at most this many tasks',
        parseIntOption('--limit', 1, 1_000_000),
        1000,
      )
      .option('--json', 'print the tasks as JSON')
      .action(async (jobId: string, options: TasksOptions, command: Command) => {
        checkIds('job', [jobId]);
        const status = options.status?.map((s) =>
          checkChoice('--status', s, TASK_STATUSES as readonly ApiTaskStatus[]),
        );
        const client = ctx.client(command);
        const tasks: TaskSummary[] = [];
        let cursor: string | undefined;
        let more = false;
        do {
          const page = await client.listJobTasks(jobId, {
            ...(status?.length ? { status } : {}),
            limit: Math.min(1000, options.limit - tasks.length),
            ...(cursor ? { cursor } : {}),
          });
          tasks.push(...page.items);
          cursor = page.nextCursor ?? undefined;
          more = cursor !== undefined;
        } while (more && tasks.length < options.limit);

        if (options.json) {
          ctx.printJson(tasks);
          return;
        }
        if (tasks.length === 0) {
          ctx.print('No tasks.');
          return;
        }
        const now = ctx.io.now();
        ctx.print(
          formatTable(
            ['#', 'ID', 'NAME', 'TYPE', 'STATUS', 'WORKER', 'PROGRESS', 'UPDATED', 'ACTIVITY'],
            tasks.map((task) => [
              String(task.index),
              task.id,
              truncate(task.name, 30),
              task.type,
              ctx.colors.status(task.status),
              task.worker?.name ?? '-',
              `${Math.round(task.progress * 100)}%`,
              formatAgo(task.updated, now),
              truncate(task.activity, 50),
            ]),
          ),
        );
        if (more) ctx.note(`(showing the first ${tasks.length}; raise --limit to see more)`);
      }),
    [
      'farm tasks 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b',
      'farm tasks "$JOB" --status failed,soft-failed',
      'farm tasks "$JOB" --json | jq -r \'.[] | select(.status=="failed") | .id\'',
    ],
  );
}
