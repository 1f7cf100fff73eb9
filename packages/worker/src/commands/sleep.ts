import { setTimeout as delay } from 'node:timers/promises';
import type { CommandExecutor } from './command-context';
import type { SleepParameters } from '@farm/core';

// setTimeout fires at once for delays beyond a signed 32-bit number of milliseconds.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** `sleep`: waits the given (possibly fractional) number of seconds; stops at once when aborted. */
export const sleep: CommandExecutor<SleepParameters> = async (params, ctx) => {
  const seconds = params.duration_in_seconds;
  ctx.log(`sleep: sleeping for ${seconds}s`);
  const end = Date.now() + seconds * 1000;
  try {
    for (let left = end - Date.now(); left > 0; left = end - Date.now()) {
      await delay(Math.min(left, MAX_TIMER_MS), undefined, { signal: ctx.signal });
    }
  } catch (error) {
    ctx.signal.throwIfAborted();
    throw error;
  }
  ctx.log(`sleep: slept ${seconds}s`);
};
