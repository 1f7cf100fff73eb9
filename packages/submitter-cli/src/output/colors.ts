/** ANSI styles that turn into plain text when colour is off. */
export interface Colors {
  readonly enabled: boolean;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  blue(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
  /** Colours a job, task or worker status by what it means. */
  status(status: string): string;
}

const STATUS_STYLE: Record<string, keyof Omit<Colors, 'enabled' | 'status'>> = {
  completed: 'green',
  awake: 'green',
  active: 'cyan',
  testing: 'cyan',
  starting: 'cyan',
  queued: 'blue',
  failed: 'red',
  error: 'red',
  'soft-failed': 'yellow',
  'pause-requested': 'yellow',
  paused: 'yellow',
  'cancel-requested': 'yellow',
  requeueing: 'yellow',
  waiting: 'yellow',
  asleep: 'dim',
  canceled: 'dim',
  archived: 'dim',
  offline: 'dim',
};

/**
 * Colour only on a terminal, and never when `NO_COLOR` is set to anything non-empty
 * (https://no-color.org).
 */
export function shouldUseColor(isTTY: boolean, env: Readonly<Record<string, string | undefined>>) {
  return isTTY && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** The styles, or plain text when `enabled` is false. */
export function createColors(enabled: boolean): Colors {
  const style =
    (open: number, close: number) =>
    (text: string): string =>
      enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  const colors: Colors = {
    enabled,
    red: style(31, 39),
    green: style(32, 39),
    yellow: style(33, 39),
    blue: style(34, 39),
    cyan: style(36, 39),
    dim: style(2, 22),
    bold: style(1, 22),
    status: (status) => {
      const name = STATUS_STYLE[status];
      return name ? colors[name](status) : status;
    },
  };
  return colors;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** The text as the terminal shows it, without colour codes. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
