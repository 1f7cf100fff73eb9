/**
 * The `variables` section of the manager config. It mirrors Flamenco's YAML (snake_case keys)
 * so a studio can carry its existing configuration over unchanged.
 */
export type Platform = 'linux' | 'windows' | 'darwin';
export type VariablePlatform = Platform | 'all';
export type VariableAudience = 'workers' | 'users' | 'all';
/** Who reads a resolved value: workers running tasks, or users submitting jobs. */
export type VariableReader = Exclude<VariableAudience, 'all'>;

export interface VariableValueConfig {
  platform?: VariablePlatform;
  platforms?: VariablePlatform[];
  /** Missing or `all` means both workers and users. */
  audience?: VariableAudience;
  value: string;
}

export interface VariableConfig {
  /** Two-way variables also turn submitted absolute paths back into `{name}`. */
  is_twoway?: boolean;
  values: VariableValueConfig[];
}

export type VariablesConfig = Record<string, VariableConfig>;

export const PLATFORMS: readonly Platform[] = ['linux', 'windows', 'darwin'];
export const VARIABLE_PLATFORMS: readonly VariablePlatform[] = [...PLATFORMS, 'all'];
export const VARIABLE_AUDIENCES: readonly VariableAudience[] = ['workers', 'users', 'all'];
export const VARIABLE_READERS: readonly VariableReader[] = ['workers', 'users'];

/** What a variable name must look like, so `{name}` is unambiguous inside any string. */
export const VARIABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** The variables every manager has unless its config defines a variable of the same name. */
export const DEFAULT_VARIABLES: Readonly<VariablesConfig> = deepFreeze({
  blender: {
    values: [
      { platform: 'linux', value: 'blender' },
      { platform: 'darwin', value: 'blender' },
      { platform: 'windows', value: 'blender.exe' },
    ],
  },
  blenderArgs: { values: [{ platform: 'all', value: '-b -y' }] },
  ffmpeg: {
    values: [
      { platform: 'linux', value: 'ffmpeg' },
      { platform: 'darwin', value: 'ffmpeg' },
      { platform: 'windows', value: 'ffmpeg.exe' },
    ],
  },
});

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
