import type { Command } from 'commander';
import { isFarmError, type ApiJobSetting, type ApiJobTypeInfo, type FarmClient } from '@farm/core';
import type { CliContext } from '../context';
import { invalidInput } from '../exit-codes';
import { formatTable, truncate } from '../output/format-table';
import { addExamples } from './command-helpers';

/** `farm job-types` and `farm job-types show TYPE`. */
export function registerJobTypeCommands(program: Command, ctx: CliContext): void {
  const jobTypes = addExamples(
    program
      .command('job-types')
      .description('list the job types the manager offers')
      .option('--json', 'print the job types as JSON')
      .action(async (options: { json?: boolean }, command: Command) => {
        const types = await ctx.client(command).listJobTypes();
        if (options.json) {
          ctx.printJson(types);
          return;
        }
        if (types.length === 0) {
          ctx.print('No job types.');
          return;
        }
        ctx.print(
          formatTable(
            ['NAME', 'LABEL', 'SETTINGS', 'DESCRIPTION'],
            types.map((type) => [
              ctx.colors.bold(type.name),
              type.label,
              String(type.settings.length),
              truncate(type.description ?? '', 60),
            ]),
          ),
        );
      }),
    ['farm job-types', 'farm job-types show simple-blender-render', 'farm job-types --json'],
  );

  addExamples(
    jobTypes
      .command('show')
      .description('show one job type: its settings with type, default, required, choices')
      .argument('<type>', 'the job type name, e.g. simple-blender-render')
      .option('--json', 'print the job type as JSON')
      .action(async (name: string, _options: unknown, command: Command) => {
        const type = await fetchJobType(ctx.client(command), name);
        // `job-types` has --json too and commander gives it to the parent; read either.
        if (command.optsWithGlobals<{ json?: boolean }>().json) {
          ctx.printJson(type);
          return;
        }
        ctx.print(formatJobType(type, ctx));
      }),
    ['farm job-types show echo-sleep-test', 'farm job-types show ffmpeg-encode --json'],
  );
}

/** The job type, or an invalid-input error naming the known ones when it does not exist. */
export async function fetchJobType(client: FarmClient, name: string): Promise<ApiJobTypeInfo> {
  try {
    return await client.getJobType(name);
  } catch (error) {
    if (isFarmError(error) && error.code === 'not_found') {
      const known = await client.listJobTypes().catch(() => []);
      const list = known.map((type) => type.name).join(', ');
      throw invalidInput(`the manager has no job type "${name}"${list ? `; it has: ${list}` : ''}`);
    }
    throw error;
  }
}

function formatJobType(type: ApiJobTypeInfo, ctx: CliContext): string {
  const head = `${ctx.colors.bold(type.label)} (${type.name})\n${type.description ? `${type.description}\n` : ''}etag: ${type.etag}\n\n`;
  const rows = type.settings.map((setting) => [
    setting.key,
    setting.type + (setting.subtype ? ` (${setting.subtype})` : ''),
    formatValue(setting.default),
    setting.required ? 'yes' : '',
    formatChoices(setting),
    describeSetting(setting),
  ]);
  return head + formatTable(['KEY', 'TYPE', 'DEFAULT', 'REQUIRED', 'CHOICES', 'DESCRIPTION'], rows);
}

function formatValue(value: unknown): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? '');
}

function formatChoices(setting: ApiJobSetting): string {
  const parts: string[] = [];
  if (setting.choices) parts.push(setting.choices.map((choice) => String(choice)).join('|'));
  const { min, max } = setting.propargs ?? {};
  if (typeof min === 'number' || typeof max === 'number') {
    parts.push(`${typeof min === 'number' ? min : ''}..${typeof max === 'number' ? max : ''}`);
  }
  return parts.join(' ');
}

function describeSetting(setting: ApiJobSetting): string {
  const notes: string[] = [];
  if (setting.visible === 'hidden') notes.push('[hidden]');
  if (setting.eval) notes.push('[computed by the add-on]');
  return [setting.description ?? setting.label ?? '', ...notes].filter(Boolean).join(' ');
}
