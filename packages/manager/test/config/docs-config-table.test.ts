import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_OPTIONS } from '../../src/config';

describe('docs/operations.md', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../../../docs/operations.md'), 'utf8');

  it('documents every configuration key with its environment variable and flag', () => {
    for (const option of CONFIG_OPTIONS) {
      expect(doc).toContain(`\`${option.key}\``);
      for (const env of option.env) expect(doc).toContain(`\`${env}\``);
      if (option.flag) expect(doc).toContain(`\`${option.flag}`);
    }
  });
});
