import { FarmError } from '@farm/core';
import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_OPTIONS } from './config-options';

function yamlScalar(value: string | number | boolean): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** The commented default `farm-manager.yaml`, every key with its default and env/flag names. */
export function defaultConfigText(): string {
  const lines = [
    '# Farm manager configuration. Later sources win: this file, then FARM_* environment',
    '# variables, then command-line flags. Durations: 30s, 10m, 1h, or milliseconds.',
    '# Relative paths are relative to this file.',
    '',
  ];
  for (const option of CONFIG_OPTIONS) {
    const names = [...option.env, option.flag].filter(Boolean).join(', ');
    lines.push(`# ${option.description} (${names})`);
    if (option.key === 'variables') {
      lines.push(
        'variables: {}',
        '# variables:',
        '#   blender:',
        '#     values:',
        '#       - { platform: linux, value: /usr/bin/blender }',
        '#       - { platform: windows, value: "C:/Program Files/Blender Foundation/blender.exe" }',
        '#   render:',
        '#     is_twoway: true',
        '#     values:',
        '#       - { platform: linux, value: /mnt/render }',
        '#       - { platform: windows, value: "R:/" }',
      );
    } else if (
      option.default === undefined ||
      option.kind === 'path' ||
      String(option.default).includes('<')
    ) {
      // Paths stay commented: this file usually lives in the data folder, and its relative
      // paths would resolve against that folder, not where the manager was started.
      lines.push(
        `# ${option.key}: ${option.default === undefined ? '' : option.default}`.trimEnd(),
      );
    } else {
      lines.push(`${option.key}: ${yamlScalar(option.default)}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/**
 * Writes the default config (for `farm-manager init-config`) with mode 0600, since it may later
 * hold the registration secret. Refuses to overwrite an existing file unless `force`.
 *
 * @throws FarmError `conflict` when the file exists.
 */
export function writeDefaultConfig(file: string, options: { force?: boolean } = {}): void {
  if (!options.force && fs.existsSync(file)) {
    throw new FarmError('conflict', `${file} already exists; pass --force to overwrite it`);
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Written aside and renamed, so a crash never leaves half a config behind.
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, defaultConfigText(), { mode: 0o600 });
  fs.chmodSync(temporary, 0o600);
  fs.renameSync(temporary, file);
}
