import type { Command } from 'commander';
import {
  WORKER_STATUSES,
  type ApiWorkerStatus,
  type ApiWorkerStatusRequest,
  type FarmClient,
  type Worker,
  type WorkerSummary,
} from '@farm/core';
import type { CliContext } from '../context';
import { invalidInput } from '../exit-codes';
import { formatFields, formatTable } from '../output/format-table';
import { formatAgo, formatLocalTime } from '../output/format-time';
import { addExamples, checkChoice, collectList, isUuid } from './command-helpers';

const REQUESTS: Array<{ name: string; status: ApiWorkerStatusRequest; description: string }> = [
  { name: 'sleep', status: 'asleep', description: 'put workers to sleep: they take no new tasks' },
  { name: 'wake', status: 'awake', description: 'wake sleeping workers' },
  { name: 'shutdown', status: 'offline', description: 'stop the worker processes' },
  { name: 'restart', status: 'restart', description: 'restart the worker processes' },
];

/** `farm workers` and `farm worker show|sleep|wake|shutdown|restart`. */
export function registerWorkerCommands(program: Command, ctx: CliContext): void {
  addExamples(
    program
      .command('workers')
      .description('list the workers with their status and current task')
      .option(
        '--status <status>',
        `only these statuses (${WORKER_STATUSES.join(', ')})`,
        collectList,
      )
      .option('--json', 'print the workers as JSON')
      .action(async (options: { status?: string[]; json?: boolean }, command: Command) => {
        const status = options.status?.map((s) =>
          checkChoice('--status', s, WORKER_STATUSES as readonly ApiWorkerStatus[]),
        );
        const workers = await ctx.client(command).listWorkers(status?.length ? { status } : {});
        if (options.json) {
          ctx.printJson(workers);
          return;
        }
        if (workers.length === 0) {
          ctx.print('No workers.');
          return;
        }
        ctx.print(formatWorkersTable(workers, ctx));
      }),
    ['farm workers', 'farm workers --status awake,asleep', 'farm workers --json'],
  );

  const worker = program
    .command('worker')
    .description('show or control one worker (by name or id)');
  addExamples(worker, [
    'farm worker show render-01',
    'farm worker sleep render-01 render-02 --after-task',
    'farm worker restart 3c9d7e2a-1b4f-4c6d-9e8f-7a6b5c4d3e2f',
  ]);

  addExamples(
    worker
      .command('show')
      .description('show one worker: status, platform, task types, tags, current task')
      .argument('<worker>', 'the worker name or id')
      .option('--json', 'print the worker as JSON')
      .action(async (nameOrId: string, options: { json?: boolean }, command: Command) => {
        const client = ctx.client(command);
        const id = await resolveWorkerId(client, nameOrId);
        const found = await client.getWorker(id);
        if (options.json) ctx.printJson(found);
        else ctx.print(formatWorker(found, ctx));
      }),
    ['farm worker show render-01', 'farm worker show render-01 --json'],
  );

  for (const request of REQUESTS) {
    addExamples(
      worker
        .command(request.name)
        .description(
          `${request.description}; at once, or with --after-task when the current task ends`,
        )
        .argument('<workers...>', 'worker names or ids')
        .option('--after-task', 'let the current task finish first')
        .option('--json', 'print the workers as JSON')
        .action(
          async (
            names: string[],
            options: { afterTask?: boolean; json?: boolean },
            command: Command,
          ) => {
            const client = ctx.client(command);
            const ids = await Promise.all(names.map((name) => resolveWorkerId(client, name)));
            const results: Worker[] = [];
            for (const id of ids) {
              results.push(
                await client.requestWorkerStatus(id, request.status, options.afterTask === true),
              );
            }
            if (options.json) {
              ctx.printJson(results);
              return;
            }
            for (const w of results) {
              ctx.print(
                `${w.name}: ${request.name} requested${options.afterTask ? ' after the current task' : ''} (now ${ctx.colors.status(w.status)})`,
              );
            }
          },
        ),
      [
        `farm worker ${request.name} render-01`,
        `farm worker ${request.name} render-01 render-02 --after-task`,
      ],
    );
  }
}

/** A worker's id from its id or its name (names are matched exactly, then ignoring case). */
async function resolveWorkerId(client: FarmClient, nameOrId: string): Promise<string> {
  if (isUuid(nameOrId)) return nameOrId;
  const workers = await client.listWorkers();
  let matches = workers.filter((w) => w.name === nameOrId);
  if (matches.length === 0) {
    matches = workers.filter((w) => w.name.toLowerCase() === nameOrId.toLowerCase());
  }
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length === 0) {
    throw invalidInput(`no worker is named "${nameOrId}" (see farm workers)`);
  }
  throw invalidInput(
    `${matches.length} workers are named "${nameOrId}"; use the id: ${matches.map((w) => w.id).join(', ')}`,
  );
}

function formatWorkersTable(workers: readonly WorkerSummary[], ctx: CliContext): string {
  const now = ctx.io.now();
  return formatTable(
    ['NAME', 'ID', 'STATUS', 'PLATFORM', 'TASK', 'LAST SEEN', 'TAGS'],
    workers.map((w) => [
      ctx.colors.bold(w.name),
      w.id,
      ctx.colors.status(w.status) +
        (w.statusRequest
          ? ` -> ${w.statusRequest.status}${w.statusRequest.lazy ? ' (after task)' : ''}`
          : ''),
      w.platform,
      w.currentTask?.name ?? (w.busy ? '(busy)' : '-'),
      formatAgo(w.lastSeen, now),
      w.tags.join(',') || '-',
    ]),
  );
}

function formatWorker(w: Worker, ctx: CliContext): string {
  const fields: Array<[string, string]> = [
    ['worker', `${ctx.colors.bold(w.name)} (${w.id})`],
    ['status', ctx.colors.status(w.status)],
    [
      'requested',
      w.statusRequest
        ? `${w.statusRequest.status}${w.statusRequest.lazy ? ' after the current task' : ''}`
        : '-',
    ],
    ['platform', w.platform],
    ['version', w.version],
    ['address', w.address || '-'],
    ['task types', w.taskTypes.join(', ')],
    ['tags', w.tags.join(', ') || '-'],
    [
      'task',
      w.currentTask
        ? `${w.currentTask.name} (${w.currentTask.id}, job ${w.currentTask.jobId})`
        : w.busy
          ? 'busy (a task of a project you have no role in)'
          : '-',
    ],
    ['last seen', `${formatLocalTime(w.lastSeen)} (${formatAgo(w.lastSeen, ctx.io.now())})`],
  ];
  if (w.hostStats) {
    const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
    fields.push([
      'host',
      `cpu ${Math.round(w.hostStats.cpuPercent)}%, memory ${gib(w.hostStats.memoryUsedBytes)}/${gib(w.hostStats.memoryTotalBytes)}, disk free ${gib(w.hostStats.diskFreeBytes)}`,
    ]);
  }
  return formatFields(fields);
}
