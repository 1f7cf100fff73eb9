import type { Command } from 'commander';
import type {
  ApiJobStatus,
  CurrentUser,
  Job,
  JobSortColumn,
  ListJobsQuery,
  SortOrder,
} from '@farm/core';
import { JOB_STATUSES } from '@farm/core';
import { unwrapCall, type CliContext } from '../context';
import { formatAgo } from '../output/format-time';
import { formatTable, truncate } from '../output/format-table';
import { addExamples, checkChoice, collectList, parseIntOption } from './command-helpers';

interface JobsOptions {
  status?: string[];
  type?: string;
  project?: string;
  mine?: boolean;
  search?: string;
  sort?: string;
  order?: string;
  limit: number;
  json?: boolean;
}

const SORT_COLUMNS: readonly JobSortColumn[] = ['created', 'updated', 'priority', 'name', 'status'];
const ORDERS: readonly SortOrder[] = ['asc', 'desc'];

/** `farm jobs`. */
export function registerJobsCommand(program: Command, ctx: CliContext): void {
  addExamples(
    program
      .command('jobs')
      .description('list jobs, newest first')
      .option(
        '--status <status>',
        `only these statuses, comma-separated or repeated (${JOB_STATUSES.join(', ')})`,
        collectList,
      )
      .option('--type <type>', 'only this job type')
      .option('--project <project>', 'only this project (name or id)')
      .option('--mine', 'only jobs you submitted')
      .option('-q, --search <text>', 'only jobs whose name contains this text')
      .option('--sort <column>', `sort by ${SORT_COLUMNS.join(', ')}`, 'created')
      .option('--order <order>', 'asc or desc', 'desc')
      .option(
        '--limit <n>',
        'at most this many jobs (1-1000)',
        parseIntOption('--limit', 1, 1000),
        50,
      )
      .option('--json', 'print the jobs as JSON')
      .action(async (options: JobsOptions, command: Command) => {
        const client = ctx.client(command);
        const query: ListJobsQuery = {
          sort: checkChoice('--sort', options.sort ?? 'created', SORT_COLUMNS),
          order: checkChoice('--order', options.order ?? 'desc', ORDERS),
          limit: options.limit,
        };
        if (options.status?.length) {
          query.status = options.status.map((status) =>
            checkChoice('--status', status, JOB_STATUSES as readonly ApiJobStatus[]),
          );
        }
        if (options.type) query.type = options.type;
        if (options.project) query.project = options.project;
        if (options.search) query.q = options.search;
        if (options.mine) {
          const me: CurrentUser = await unwrapCall(client.GET('/api/v1/me'));
          query.submitter = me.id;
        }
        const page = await client.listJobs(query);
        if (options.json) {
          ctx.printJson(page.items);
          return;
        }
        if (page.items.length === 0) {
          ctx.print('No jobs.');
          return;
        }
        ctx.print(formatJobsTable(page.items, ctx));
        if (page.nextCursor) {
          ctx.note(`(showing the first ${page.items.length}; raise --limit or filter to see more)`);
        }
      }),
    [
      'farm jobs',
      'farm jobs --status active,queued --mine',
      'farm jobs --type simple-blender-render --project Spring --sort priority --limit 10',
      'farm jobs --status failed --json',
    ],
  );
}

/** The jobs table: id, name, type, status, tasks done of total, priority, project, updated. */
export function formatJobsTable(
  jobs: readonly Job[],
  ctx: Pick<CliContext, 'colors' | 'io'>,
): string {
  const now = ctx.io.now();
  return formatTable(
    ['ID', 'NAME', 'TYPE', 'STATUS', 'TASKS', 'PRI', 'PROJECT', 'UPDATED'],
    jobs.map((job) => [
      job.id,
      truncate(job.name, 40),
      job.type,
      ctx.colors.status(job.status),
      `${job.taskCounts.completed}/${job.taskCounts.total}${job.taskCounts.failed > 0 ? ctx.colors.red(` (${job.taskCounts.failed} failed)`) : ''}`,
      String(job.priority),
      job.project.name,
      formatAgo(job.updated, now),
    ]),
  );
}
