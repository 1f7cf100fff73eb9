import type { CommandExecutor } from './command-context';
import type { EchoParameters } from '@farm/core';

/** `echo`: writes its message to the task log. */
export const echo: CommandExecutor<EchoParameters> = (params, ctx) => {
  const text = typeof params.message === 'string' ? params.message : JSON.stringify(params.message);
  ctx.log(`echo: ${text}`);
  return Promise.resolve();
};
