// Arguments made only of these characters need no quotes; a backslash is literal only on Windows.
const SAFE_POSIX_ARG = /^[A-Za-z0-9_@%+=:,./-]+$/;
const SAFE_WINDOWS_ARG = /^[A-Za-z0-9_@%+=:,./\\-]+$/;

/**
 * Quotes one argument so it can be pasted into a shell of the given platform: POSIX single
 * quotes (with `'\''` for a quote inside), or Windows double quotes (with `""` for a quote).
 */
export function quoteArg(arg: string, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') {
    return SAFE_WINDOWS_ARG.test(arg) ? arg : `"${arg.replace(/"/g, '""')}"`;
  }
  if (SAFE_POSIX_ARG.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * A command line for the log that a user can copy and paste to rerun the command by hand.
 *
 * @example quoteCommandLine('blender', ['-b', 'my file.blend']) // "blender -b 'my file.blend'"
 */
export function quoteCommandLine(
  exe: string,
  args: readonly string[],
  platform: NodeJS.Platform = process.platform,
): string {
  return [exe, ...args].map((a) => quoteArg(a, platform)).join(' ');
}
