import { FarmError } from '@farm/core';
import { countRenderFrames, createBlenderProgress, parseBlenderLine } from './blender-progress';
import type { CommandExecutor } from './command-context';
import { runCommandProcess } from './run-command-process';
import { shellSplit } from '@farm/core';
import type { BlenderRenderParameters } from '@farm/core';

/** The program and arguments of a render: `exe exeArgs argsBefore blendfile args`, `exe` split like a shell. */
export function buildBlenderCommand(params: BlenderRenderParameters): {
  exe: string;
  args: string[];
} {
  const [exe, ...exeExtra] = shellSplit(params.exe);
  if (exe === undefined) throw new FarmError('validation_failed', 'blender-render: exe is empty');
  return {
    exe,
    args: [
      ...exeExtra,
      ...shellSplit(params.exeArgs ?? ''),
      ...(params.argsBefore ?? []),
      params.blendfile,
      ...(params.args ?? []),
    ],
  };
}

/**
 * `blender-render`: runs Blender, reports progress from its `Fra:`/sample lines, and passes each
 * `Saved:` image on as a preview. Fails when Blender exits non-zero or reports that it could not
 * read the blend file; the error then quotes Blender's reason rather than just an exit code.
 */
export const blenderRender: CommandExecutor<BlenderRenderParameters> = async (params, ctx) => {
  const { exe, args } = buildBlenderCommand(params);
  const tracker = createBlenderProgress(countRenderFrames(args));
  let fatal: string | undefined;
  ctx.progress({ fraction: 0, activity: 'starting Blender', stepsDone: 0 });
  try {
    await runCommandProcess(ctx, {
      exe,
      args,
      exeVariable: 'blender',
      onLine(line) {
        const event = parseBlenderLine(line);
        if (event === undefined) return;
        if (event.kind === 'fatal') fatal ??= event.message;
        if (event.kind === 'saved') ctx.outputProduced(event.path);
        const update = tracker.update(event);
        if (update) ctx.progress(update);
      },
    });
  } catch (error) {
    if (fatal === undefined || ctx.signal.aborted) throw error;
  }
  // Blender's own reason says more than "exited with code 1".
  if (fatal !== undefined) throw new FarmError('internal', `Blender failed: ${fatal}`);
  ctx.log(`blender-render: ${tracker.framesDone} frame(s) saved`);
};
