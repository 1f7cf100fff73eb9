import fs from 'node:fs';
import path from 'node:path';

/** One setting that was pointed at the checkout. */
export interface CheckoutReplacement {
  key: string;
  before: string;
  after: string;
}

/**
 * Points settings at an uploaded folder's checkout: every string setting that names a file or
 * folder inside `folder` (relative to it, relative to `cwd`, or absolute) becomes
 * `<checkoutPath>/<path inside>`. Other settings stay as they are.
 */
export function pointSettingsAtCheckout(
  settings: Record<string, unknown>,
  folder: string,
  checkoutPath: string,
  cwd: string = process.cwd(),
): { settings: Record<string, unknown>; replacements: CheckoutReplacement[] } {
  const root = path.resolve(cwd, folder);
  const replacements: CheckoutReplacement[] = [];
  const out: Record<string, unknown> = { ...settings };
  for (const [key, value] of Object.entries(settings)) {
    if (typeof value !== 'string' || value === '' || value.startsWith('{')) continue;
    const candidates = path.isAbsolute(value)
      ? [value]
      : [path.resolve(root, value), path.resolve(cwd, value)];
    for (const candidate of candidates) {
      const inside = path.relative(root, candidate);
      if (inside.startsWith('..') || path.isAbsolute(inside) || !fs.existsSync(candidate)) continue;
      const after =
        inside === '' ? checkoutPath : `${checkoutPath}/${inside.split(path.sep).join('/')}`;
      out[key] = after;
      replacements.push({ key, before: value, after });
      break;
    }
  }
  return { settings: out, replacements };
}
