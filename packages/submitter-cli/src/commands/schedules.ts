import type { Command } from 'commander';
import {
  validateJobSettings,
  type ApiSubmittedJob,
  type FarmClient,
  type JobSetting,
  type Schedule,
  type ScheduleRun,
} from '@farm/core';
import type { CliContext } from '../context';
import { invalidInput } from '../exit-codes';
import { formatTable } from '../output/format-table';
import { formatAgo, formatLocalTime } from '../output/format-time';
import { formatIssue } from '../report-error';
import { parseAssignments, parseSetValues } from '../settings/parse-set-values';
import { readSettingsFile } from '../settings/read-settings-file';
import { addExamples, collect, isUuid, parseIntOption } from './command-helpers';
import { fetchJobType } from './job-types';

interface AddOptions {
  cron?: string;
  every?: string;
  tz?: string;
  set?: string[];
  settings?: string;
  jobName?: string;
  priority?: number;
  project?: string;
  tag?: string[];
  meta?: string[];
  disabled?: boolean;
  json?: boolean;
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30m`, `2h`, `1d` (whole minutes, hours or days) in milliseconds. */
export function parseEvery(text: string): number {
  const match = /^(\d+)\s*([mhd])$/.exec(text.trim());
  if (!match) {
    throw invalidInput(`--every must be like 30m, 2h or 1d, got ${JSON.stringify(text)}`);
  }
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

function describeTiming(schedule: Schedule): string {
  if (schedule.cron !== null) return `cron ${schedule.cron}`;
  const ms = schedule.intervalMs ?? 0;
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
  ] as const) {
    if (ms % size === 0) return `every ${ms / size}${unit}`;
  }
  return `every ${Math.round(ms / 60_000)}m`;
}

/** `farm schedule add|list|enable|disable|remove|runs`. */
export function registerScheduleCommands(program: Command, ctx: CliContext): void {
  const schedule = program
    .command('schedule')
    .description('recurring jobs: submit a job on a cron expression or every interval');
  addExamples(schedule, [
    'farm schedule add nightly-comp comp-render --cron "0 2 * * *" --tz Europe/Amsterdam --set frames=1-250',
    'farm schedule add hourly-sync exec --every 1h -f sync.yaml',
    'farm schedule list',
    'farm schedule disable nightly-comp',
    'farm schedule runs nightly-comp',
  ]);

  addExamples(
    schedule
      .command('add')
      .description('create a schedule that submits a job of TYPE (settings as farm submit)')
      .argument('<name>', 'the schedule name (unique)')
      .argument('<type>', 'the job type of the jobs it submits')
      .option('--cron <expression>', 'when it runs: minute hour day month weekday')
      .option('--every <interval>', 'or: run every 30m, 2h, 1d (at least 1m)')
      .option('--tz <zone>', 'the IANA time zone the cron expression is read in (default UTC)')
      .option('--set <key=value>', 'a job setting (repeatable)', collect)
      .option('-f, --settings <file>', 'settings from a .json or .yaml file (--set wins over it)')
      .option('--job-name <name>', 'the name of each submitted job (default: the schedule name)')
      .option('-p, --priority <0-100>', 'the jobs` priority', parseIntOption('--priority', 0, 100))
      .option('--project <project>', 'the project of the jobs')
      .option('--tag <tag>', 'only workers with this tag run the jobs (repeatable)', collect)
      .option('--meta <key=value>', 'a metadata label on each job (repeatable)', collect)
      .option('--disabled', 'create it disabled; start it with farm schedule enable')
      .option('--json', 'print the schedule as JSON')
      .action(async (name: string, type: string, options: AddOptions, command: Command) => {
        if ((options.cron === undefined) === (options.every === undefined)) {
          throw invalidInput('give exactly one of --cron and --every');
        }
        const client = ctx.client(command);
        const template = await buildTemplate(client, name, type, options);
        const created = await client.createSchedule({
          name,
          template,
          ...(options.cron !== undefined ? { cron: options.cron } : {}),
          ...(options.every !== undefined ? { intervalMs: parseEvery(options.every) } : {}),
          ...(options.tz !== undefined ? { timeZone: options.tz } : {}),
          ...(options.disabled ? { enabled: false } : {}),
        });
        if (options.json) ctx.printJson(created);
        else
          ctx.print(
            `${created.name}: ${describeTiming(created)}, next run ${formatLocalTime(created.nextRunAt)}`,
          );
      }),
    [
      'farm schedule add nightly comp-render --cron "0 2 * * 1-5" --tz America/New_York --set frames=1-100',
      'farm schedule add cleanup exec --every 6h --set command="rm -rf /tmp/cache"',
    ],
  );

  addExamples(
    schedule
      .command('list')
      .description('list the schedules with their timing, state and next run')
      .option('--json', 'print the schedules as JSON')
      .action(async (options: { json?: boolean }, command: Command) => {
        const schedules = await ctx.client(command).listSchedules();
        if (options.json) {
          ctx.printJson(schedules);
          return;
        }
        if (schedules.length === 0) {
          ctx.print('No schedules.');
          return;
        }
        const now = ctx.io.now();
        ctx.print(
          formatTable(
            ['NAME', 'WHEN', 'TIME ZONE', 'STATE', 'NEXT RUN', 'LAST RUN', 'JOB TYPE'],
            schedules.map((s) => [
              ctx.colors.bold(s.name),
              describeTiming(s),
              s.timeZone,
              s.enabled ? 'enabled' : ctx.colors.dim('disabled'),
              s.nextRunAt ? formatLocalTime(s.nextRunAt) : '-',
              s.lastRunAt ? formatAgo(s.lastRunAt, now) : 'never',
              s.template.type,
            ]),
          ),
        );
      }),
    ['farm schedule list', 'farm schedule list --json'],
  );

  for (const enabled of [true, false]) {
    const verb = enabled ? 'enable' : 'disable';
    addExamples(
      schedule
        .command(verb)
        .description(
          enabled
            ? 'enable schedules; the next run is the next moment from now (missed ones are skipped)'
            : 'disable schedules: they submit nothing until enabled again',
        )
        .argument('<schedules...>', 'schedule names or ids')
        .option('--json', 'print the schedules as JSON')
        .action(async (names: string[], options: { json?: boolean }, command: Command) => {
          const client = ctx.client(command);
          const ids = await resolveScheduleIds(client, names);
          const changed: Schedule[] = [];
          for (const id of ids) changed.push(await client.updateSchedule(id, { enabled }));
          if (options.json) {
            ctx.printJson(changed);
            return;
          }
          for (const s of changed) {
            ctx.print(
              `${s.name}: ${verb}d${s.nextRunAt ? `, next run ${formatLocalTime(s.nextRunAt)}` : ''}`,
            );
          }
        }),
      [`farm schedule ${verb} nightly-comp`, `farm schedule ${verb} nightly-comp hourly-sync`],
    );
  }

  addExamples(
    schedule
      .command('remove')
      .description('remove schedules and their run history (the jobs they submitted stay)')
      .argument('<schedules...>', 'schedule names or ids')
      .action(async (names: string[], _options: unknown, command: Command) => {
        const client = ctx.client(command);
        const ids = await resolveScheduleIds(client, names);
        for (const [i, id] of ids.entries()) {
          await client.deleteSchedule(id);
          ctx.print(`${names[i]}: removed`);
        }
      }),
    ['farm schedule remove nightly-comp'],
  );

  addExamples(
    schedule
      .command('runs')
      .description('the latest runs of a schedule: when, and the job it submitted or its error')
      .argument('<schedule>', 'the schedule name or id')
      .option('-n, --limit <n>', 'how many runs (default 20)', parseIntOption('--limit', 1, 500))
      .option('--json', 'print the runs as JSON')
      .action(
        async (nameOrId: string, options: { limit?: number; json?: boolean }, command: Command) => {
          const client = ctx.client(command);
          const [id] = await resolveScheduleIds(client, [nameOrId]);
          const runs = await client.listScheduleRuns(id!, options.limit ?? 20);
          if (options.json) {
            ctx.printJson(runs);
            return;
          }
          if (runs.length === 0) {
            ctx.print('No runs yet.');
            return;
          }
          ctx.print(formatRuns(runs, ctx));
        },
      ),
    ['farm schedule runs nightly-comp', 'farm schedule runs nightly-comp -n 100 --json'],
  );
}

function formatRuns(runs: readonly ScheduleRun[], ctx: CliContext): string {
  return formatTable(
    ['DUE', 'FIRED', 'RESULT'],
    runs.map((run) => [
      formatLocalTime(run.scheduledFor),
      formatLocalTime(run.firedAt),
      run.jobId !== null
        ? `job ${run.jobId}`
        : ctx.colors.status('failed') + ` ${run.error ?? 'no job (interrupted)'}`,
    ]),
  );
}

async function buildTemplate(
  client: FarmClient,
  name: string,
  type: string,
  options: AddOptions,
): Promise<ApiSubmittedJob> {
  const jobType = await fetchJobType(client, type);
  const declared = jobType.settings as JobSetting[];
  const fromFile = options.settings ? readSettingsFile(options.settings) : {};
  const fromSet = parseSetValues(declared, options.set ?? []);
  const settings = { ...fromFile, ...fromSet.settings };
  const checked = validateJobSettings(declared, settings);
  const meta = parseAssignments(options.meta ?? [], '--meta');
  const reported = new Set(fromSet.issues.map((issue) => issue.path));
  const issues = [
    ...fromSet.issues,
    ...checked.issues.filter((issue) => !reported.has(issue.path)),
    ...meta.issues,
  ];
  if (issues.length > 0) {
    throw invalidInput(
      `the job template is invalid; nothing was created:\n${issues.map((issue) => `  - ${formatIssue(issue)}`).join('\n')}`,
      { issues },
    );
  }
  return {
    name: options.jobName ?? name,
    type,
    settings,
    ...(options.priority !== undefined ? { priority: options.priority } : {}),
    ...(options.project ? { project: options.project } : {}),
    ...(options.tag?.length ? { requiredTags: options.tag } : {}),
    ...(meta.entries.length > 0 ? { metadata: Object.fromEntries(meta.entries) } : {}),
  };
}

/** Schedule ids from names or ids (names matched exactly). */
async function resolveScheduleIds(client: FarmClient, namesOrIds: string[]): Promise<string[]> {
  const needsList = namesOrIds.some((value) => !isUuid(value));
  const schedules = needsList ? await client.listSchedules() : [];
  return namesOrIds.map((value) => {
    if (isUuid(value)) return value;
    const found = schedules.find((s) => s.name === value);
    if (!found) throw invalidInput(`no schedule is named "${value}" (see farm schedule list)`);
    return found.id;
  });
}
