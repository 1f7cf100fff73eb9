import path from 'node:path';
import { isFarmError, toFarmError } from '@farm/core';
import { resolveConfig, writeDefaultConfig, CONFIG_OPTIONS } from './config';
import { assertSchemaNotNewer, createDatabase, migrate } from './db';
import { createManager } from './create-manager';
import { createLogger } from './logging';
import { runUserCommand } from './user-command';

const USAGE = `Usage: farm-manager [command] [options]

Commands:
  (none)          run the manager (migrates the database first)
  migrate         apply database migrations and exit
  init-config     write farm-manager.yaml with every option and its default
  user            add users, reset passwords, list users (farm-manager user help)
  help            show this help

Every option is also an environment variable (FARM_ + upper snake case) and a key of
farm-manager.yaml in the data folder. DATABASE_URL selects Postgres; without it the embedded
database in <data-dir>/db is used.`;

function optionHelp(): string {
  return CONFIG_OPTIONS.map(
    (option) => `  ${option.flag ?? ''}  (${option.env.join(', ')})  ${option.description}`,
  ).join('\n');
}

async function runMigrate(argv: string[]): Promise<void> {
  const config = resolveConfig({ argv });
  const database = await createDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    await assertSchemaNotNewer(database.db);
    const result = await migrate(database.db);
    process.stdout.write(
      result.applied.length > 0
        ? `applied migrations: ${result.applied.join(', ')}\n`
        : 'database schema is up to date\n',
    );
  } finally {
    await database.close();
  }
}

function runInitConfig(argv: string[]): void {
  const config = resolveConfig({ argv });
  const file = config.configFile ?? path.join(config.dataDir, 'farm-manager.yaml');
  writeDefaultConfig(file, { force: argv.includes('--force') });
  process.stdout.write(`wrote ${file}\n`);
}

async function runServe(argv: string[]): Promise<void> {
  const config = resolveConfig({ argv });
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const manager = await createManager(config, { logger });
  logger.info(`Farm manager listening on ${manager.url}`, { database: manager.database.location });
  if (manager.firstAdmin) {
    process.stdout.write(
      `\nFirst run: created the admin user. Its API token (shown once; also in ${manager.firstAdmin.tokenFile}):\n\n` +
        `  ${manager.firstAdmin.token}\n\n` +
        `Use it with: farm login ${manager.url} --token <token>, or in the web app at ${manager.url}\n` +
        `("Use an API token instead"). To sign in with a password, give the admin one:\n` +
        `  npx farm-manager user reset-password admin   (with the embedded database, stop the manager first)\n\n`,
    );
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info(`received ${signal}, shutting down`);
    manager.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function main(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  switch (command) {
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n\nOptions:\n${optionHelp()}\n`);
      return;
    case 'migrate':
      return runMigrate(rest);
    case 'init-config':
      return runInitConfig(rest);
    case 'user':
      return runUserCommand(rest, (text) => process.stdout.write(`${text}\n`));
    case undefined:
      return runServe([]);
    default:
      if (command.startsWith('-')) return runServe(args);
      throw new Error(`unknown command "${command}" (try farm-manager help)`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const farmError = toFarmError(error);
  process.stderr.write(`farm-manager: ${farmError.message}\n`);
  if (isFarmError(error)) {
    for (const issue of farmError.issues)
      process.stderr.write(`  ${issue.path}: ${issue.message}\n`);
  }
  process.exit(1);
});
