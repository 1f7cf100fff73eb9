import type { CommandExecutor } from './command-context';

export interface EchoParameters {
  message: unknown;
}

/** `echo`: writes its message to the task log. */
export const echo: CommandExecutor<EchoParameters> = (params, ctx) => {
  const text = typeof params.message === 'string' ? params.message : JSON.stringify(params.message);
  ctx.log(`echo: ${text}`);
  return Promise.resolve();
};
