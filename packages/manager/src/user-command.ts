import { randomBytes } from 'node:crypto';
import { FarmError, promptHidden } from '@farm/core';
import { resolveConfig } from './config';
import { assertSchemaNotNewer, createDatabase, migrate } from './db';
import {
  createUser,
  findUserByName,
  listUsers,
  setProjectMember,
  updateUser,
} from './services/auth';
import { findProject } from './db/queries/jobs';

/** Usage of `farm-manager user`. */
export const USER_USAGE = `Usage:
  farm-manager user add <name> [--admin] [--project <name> --role viewer|artist|manager]
  farm-manager user reset-password <name>
  farm-manager user list

The password comes from FARM_USER_PASSWORD, else is asked for on a terminal, else a random one is
made and printed once. With the embedded database, stop the manager first (one process at a time).`;

interface UserArgs {
  positional: string[];
  admin: boolean;
  project?: string;
  role?: string;
  rest: string[];
}

function parseArgs(argv: string[]): UserArgs {
  const out: UserArgs = { positional: [], admin: false, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--admin') out.admin = true;
    else if (arg === '--project') out.project = argv[++i];
    else if (arg === '--role') out.role = argv[++i];
    else if (arg.startsWith('-')) {
      // A manager option (--data-dir, --database-url, ...), with its value unless `--x=y`.
      out.rest.push(arg);
      if (!arg.includes('=') && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) {
        out.rest.push(argv[++i]!);
      }
    } else out.positional.push(arg);
  }
  return out;
}

async function choosePassword(): Promise<{ password: string; generated: boolean }> {
  const fromEnv = process.env.FARM_USER_PASSWORD;
  if (fromEnv) return { password: fromEnv, generated: false };
  if (process.stdin.isTTY) {
    const password = await promptHidden('Password (at least 8 characters): ');
    if (password.length < 8) throw new FarmError('validation_failed', 'the password is too short');
    return { password, generated: false };
  }
  return { password: randomBytes(12).toString('base64url'), generated: true };
}

/** `farm-manager user add|reset-password|list`: manage users straight in the database. */
export async function runUserCommand(argv: string[], print: (text: string) => void): Promise<void> {
  const [action, ...restArgv] = argv;
  const args = parseArgs(restArgv);
  if (!action || !['add', 'reset-password', 'list'].includes(action)) {
    print(USER_USAGE);
    if (action && action !== 'help')
      throw new FarmError('bad_request', `unknown user command "${action}"`);
    return;
  }
  const config = resolveConfig({ argv: args.rest });
  const database = await createDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    await assertSchemaNotNewer(database.db);
    await migrate(database.db);
    const db = database.db;
    if (action === 'list') {
      const { items } = await listUsers(db);
      for (const user of items) {
        const roles = user.roles.map((r) => `${r.role}@${r.project?.name ?? '*'}`).join(',');
        print(
          `${user.name}\t${user.isAdmin ? 'admin' : '-'}\t${user.disabled ? 'disabled' : 'active'}\t${roles || '-'}`,
        );
      }
      return;
    }
    const name = args.positional[0];
    if (!name)
      throw new FarmError('bad_request', `give the user name: farm-manager user ${action} <name>`);
    const { password, generated } = await choosePassword();
    if (action === 'add') {
      const user = await createUser(db, { name, password, isAdmin: args.admin });
      if (args.project) {
        const project = await findProject(db, args.project);
        if (!project) throw new FarmError('not_found', `there is no project "${args.project}"`);
        const role = args.role ?? 'artist';
        if (!['viewer', 'artist', 'manager'].includes(role)) {
          throw new FarmError('bad_request', 'the role is one of viewer, artist, manager');
        }
        await setProjectMember(db, project.id, user.id, role as 'viewer' | 'artist' | 'manager');
      }
      print(`Added user ${name}${args.admin ? ' (farm admin)' : ''}.`);
    } else {
      const user = await findUserByName(db, name);
      if (!user) throw new FarmError('not_found', `there is no user "${name}"`);
      await updateUser(db, user.id, { password });
      print(`Set a new password for ${name}; their web sessions have ended.`);
    }
    if (generated) print(`Password (shown once): ${password}`);
  } finally {
    await database.close();
  }
}
