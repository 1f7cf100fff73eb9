import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { invalidInput } from '../exit-codes';

/** Reads settings from a `.json` or `.yaml`/`.yml` file: a mapping of setting keys to values. */
export function readSettingsFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw invalidInput(`cannot read the settings file ${file}: ${(error as Error).message}`);
  }
  const extension = path.extname(file).toLowerCase();
  let value: unknown;
  try {
    // YAML is a superset of JSON, but JSON.parse gives better messages for .json files.
    value = extension === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (error) {
    throw invalidInput(
      `the settings file ${file} is not valid ${extension === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidInput(`the settings file ${file} must hold a mapping of setting keys to values`);
  }
  return value as Record<string, unknown>;
}
