// The `farm-worker` program: configuration, then the daemon or the self-test.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isFarmError } from '@farm/core';
import { parse as parseYaml } from 'yaml';
import {
  configFileArgument,
  formatWorkerHelp,
  resolveWorkerConfig,
  type WorkerConfig,
} from './config';
import { formatSelfTestReport, runSelfTest } from './self-test';
import { WORKER_VERSION } from './version';
import { createWorkerDaemon } from './worker-daemon';
import { createConsoleLogger } from './worker-logger';

const DEFAULT_CONFIG_FILE = 'farm-worker.yaml';
// After SIGINT/SIGTERM the worker gets this long to sign off before it exits anyway.
const SHUTDOWN_WATCHDOG_MS = 20_000;

/** Runs `farm-worker` with the given arguments; resolves with the exit code. */
export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let config: WorkerConfig;
  try {
    config = resolveWorkerConfig({ argv, env, file: readConfigFile(argv, env) });
  } catch (error) {
    if (isFarmError(error) && error.issues.length > 0) {
      process.stderr.write('farm-worker: the configuration has problems:\n');
      for (const issue of error.issues)
        process.stderr.write(`  - ${issue.path}: ${issue.message}\n`);
      process.stderr.write('Run farm-worker --help for the options.\n');
    } else
      process.stderr.write(
        `farm-worker: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    return 2;
  }
  if (config.help) {
    process.stdout.write(formatWorkerHelp());
    return 0;
  }
  if (config.version) {
    process.stdout.write(`${WORKER_VERSION}\n`);
    return 0;
  }
  if (config.test) {
    process.stdout.write(`Farm worker ${WORKER_VERSION}: testing in ${config.workDir}\n`);
    const result = await runSelfTest({ workDir: config.workDir });
    process.stdout.write(formatSelfTestReport(result));
    return result.ok ? 0 : 1;
  }

  const logger = createConsoleLogger({ debug: env.FARM_WORKER_DEBUG === '1' });
  logger.info(`Farm worker ${WORKER_VERSION} "${config.name}", data in ${config.dataDir}`);
  const daemon = createWorkerDaemon({ config, logger });
  let signals = 0;
  const onStopSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn(`${signal} again: exiting without signing off`);
      process.exit(130);
    }
    logger.info(`${signal}: stopping the current task and signing off (again to force)`);
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_WATCHDOG_MS).unref();
    void daemon.stop();
  };
  process.on('SIGINT', onStopSignal);
  process.on('SIGTERM', onStopSignal);
  if (process.platform !== 'win32') {
    process.on('SIGUSR1', () => daemon.requestLocalStatus('asleep'));
    process.on('SIGUSR2', () => daemon.requestLocalStatus('awake'));
  }
  try {
    await daemon.start();
  } catch (error) {
    if (!(error instanceof Error && error.name === 'AbortError'))
      logger.error(error instanceof Error ? error.message : String(error));
    if (signals === 0) return 1;
  }
  return daemon.exited;
}

function readConfigFile(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Record<string, unknown> | undefined {
  const named = configFileArgument(argv, env);
  const file = named ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (file === undefined) return undefined;
  const value: unknown = parseYaml(readFileSync(path.resolve(file), 'utf8'));
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${file} must hold a mapping of option names to values`);
  return value as Record<string, unknown>;
}

// The bin script requires this file, so `require.main` is the bin, not this module.
if (require.main === module || /farm-worker(\.js)?$/.test(process.argv[1] ?? '')) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `farm-worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
