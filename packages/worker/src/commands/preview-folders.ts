import path from 'node:path';
import type { BlenderRenderParameters, Command, ExecParameters } from '@farm/core';
import { buildBlenderCommand } from './blender-render';

/**
 * Where a render writes its frames, from Blender's `--render-output`/`-o` argument: the folder
 * of the pattern (`/render/shot/######` → `/render/shot`), Blender's `//` taken from the blend
 * file's folder. Undefined when the command names none.
 */
export function blenderOutputFolder(
  params: BlenderRenderParameters,
  workDir: string,
  p: path.PlatformPath = path,
): string | undefined {
  let args: string[];
  try {
    args = buildBlenderCommand(params).args;
  } catch {
    return undefined;
  }
  let pattern: string | undefined;
  for (let i = 0; i < args.length - 1; i++) {
    if (args[i] === '--render-output' || args[i] === '-o') pattern = args[i + 1];
  }
  if (pattern === undefined || pattern === '') return undefined;
  if (pattern.startsWith('//')) {
    pattern = p.join(p.dirname(p.resolve(workDir, params.blendfile)), pattern.slice(2));
  }
  // A pattern ending in a separator is a folder; otherwise its last part names the files.
  const folder = /[\\/]$/.test(pattern) ? pattern : p.dirname(pattern);
  return folder.includes('#') ? undefined : p.resolve(workDir, folder);
}

/**
 * The folders a task's commands write images to, which the worker watches for previews: each
 * command's `outputDir` parameter, or for `blender-render` the folder of its `--render-output`.
 */
export function previewFolders(
  commands: readonly Command[],
  workDir: string,
  p: path.PlatformPath = path,
): string[] {
  const folders = new Set<string>();
  for (const command of commands) {
    const params = command.parameters as Partial<ExecParameters & BlenderRenderParameters>;
    if (typeof params.outputDir === 'string' && params.outputDir !== '') {
      folders.add(p.resolve(workDir, params.outputDir));
    } else if (command.name === 'blender-render') {
      const folder = blenderOutputFolder(params as BlenderRenderParameters, workDir, p);
      if (folder !== undefined) folders.add(folder);
    }
  }
  return [...folders];
}
