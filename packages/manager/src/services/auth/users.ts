import { FarmError, type Project, type User } from '@farm/core';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { isSqlState, SQLSTATE } from '../../db/sqlstate';
import type { Principal } from '../../http/principal';
import { hashPassword } from './password';
import { deleteUserSessions } from './sessions';

/** A new user, as `createUser` and `farm-manager user add` take it. */
export interface NewUserInput {
  name: string;
  displayName?: string;
  email?: string;
  password?: string;
  isAdmin?: boolean;
}

/** A change to a user; a new password or `disabled: true` ends their sessions. */
export interface UserChangeInput {
  displayName?: string;
  email?: string | null;
  password?: string;
  isAdmin?: boolean;
  disabled?: boolean;
}

async function rolesOf(db: Kysely<Database>, userIds: string[]) {
  if (userIds.length === 0) return new Map<string, User['roles']>();
  const rows = await db
    .selectFrom('project_members as m')
    .innerJoin('projects as p', 'p.id', 'm.project_id')
    .select(['m.user_id', 'p.id', 'p.name', 'm.role'])
    .where('m.user_id', 'in', userIds)
    .orderBy('p.name')
    .execute();
  const roles = new Map<string, User['roles']>();
  for (const row of rows) {
    const list = roles.get(row.user_id) ?? [];
    list.push({ project: { id: row.id, name: row.name }, role: row.role });
    roles.set(row.user_id, list);
  }
  return roles;
}

const USER_COLUMNS = [
  'id',
  'name',
  'display_name',
  'email',
  'is_admin',
  'disabled_at',
  'created_at',
] as const;

/** Every user with their roles, by name. */
export async function listUsers(db: Kysely<Database>): Promise<{ items: User[] }> {
  const rows = await db.selectFrom('users').select(USER_COLUMNS).orderBy('name').execute();
  const roles = await rolesOf(
    db,
    rows.map((row) => row.id),
  );
  return {
    items: rows.map((row) => ({
      id: row.id,
      name: row.name,
      displayName: row.display_name,
      email: row.email,
      isAdmin: row.is_admin,
      disabled: row.disabled_at !== null,
      roles: roles.get(row.id) ?? [],
      createdAt: row.created_at.toISOString(),
    })),
  };
}

/** One user. @throws FarmError `not_found` */
export async function getUser(db: Kysely<Database>, userId: string): Promise<User> {
  const row = await db
    .selectFrom('users')
    .select(USER_COLUMNS)
    .where('id', '=', userId)
    .executeTakeFirst();
  if (!row) throw new FarmError('not_found', 'there is no such user', { details: { userId } });
  const roles = await rolesOf(db, [row.id]);
  return {
    id: row.id,
    name: row.name,
    displayName: row.display_name,
    email: row.email,
    isAdmin: row.is_admin,
    disabled: row.disabled_at !== null,
    roles: roles.get(row.id) ?? [],
    createdAt: row.created_at.toISOString(),
  };
}

/** Adds a user (the password hashed with scrypt). @throws FarmError `conflict` for a taken name */
export async function createUser(db: Kysely<Database>, input: NewUserInput): Promise<User> {
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  try {
    const row = await db
      .insertInto('users')
      .values({
        name: input.name,
        display_name: input.displayName ?? '',
        email: input.email ?? null,
        password_hash: passwordHash,
        is_admin: input.isAdmin ?? false,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return await getUser(db, row.id);
  } catch (error) {
    if (isSqlState(error, SQLSTATE.UNIQUE_VIOLATION)) {
      throw new FarmError('conflict', `there is a user "${input.name}" already`, {
        details: { name: input.name },
      });
    }
    throw error;
  }
}

/** Changes a user. @throws FarmError `not_found` */
export async function updateUser(
  db: Kysely<Database>,
  userId: string,
  change: UserChangeInput,
): Promise<User> {
  const passwordHash =
    change.password === undefined ? undefined : await hashPassword(change.password);
  const result = await db
    .updateTable('users')
    .set((eb) => ({
      updated_at: eb.fn<Date>('now', []),
      ...(change.displayName !== undefined ? { display_name: change.displayName } : {}),
      ...(change.email !== undefined ? { email: change.email } : {}),
      ...(passwordHash !== undefined ? { password_hash: passwordHash } : {}),
      ...(change.isAdmin !== undefined ? { is_admin: change.isAdmin } : {}),
      ...(change.disabled !== undefined
        ? {
            disabled_at: change.disabled
              ? eb.fn.coalesce('disabled_at', eb.fn<Date>('now', []))
              : null,
          }
        : {}),
    }))
    .where('id', '=', userId)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) {
    throw new FarmError('not_found', 'there is no such user', { details: { userId } });
  }
  if (passwordHash !== undefined || change.disabled === true) await deleteUserSessions(db, userId);
  return getUser(db, userId);
}

/** Finds a user by name. */
export async function findUserByName(
  db: Kysely<Database>,
  name: string,
): Promise<
  { id: string; name: string; password_hash: string | null; disabled_at: Date | null } | undefined
> {
  return db
    .selectFrom('users')
    .select(['id', 'name', 'password_hash', 'disabled_at'])
    .where('name', '=', name)
    .executeTakeFirst();
}

function toProject(row: {
  id: string;
  name: string;
  description: string;
  created_at: Date;
}): Project {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    createdAt: row.created_at.toISOString(),
  };
}

/** The projects the caller has a role in (farm admins: all), by name. */
export async function listProjects(
  db: Kysely<Database>,
  principal: Principal | null,
): Promise<{ items: Project[] }> {
  let query = db.selectFrom('projects').selectAll().orderBy('name');
  if (principal?.kind === 'user' && !principal.isAdmin) {
    const ids = Object.keys(principal.roles ?? {});
    if (ids.length === 0) return { items: [] };
    query = query.where('id', 'in', ids);
  } else if (principal?.kind === 'worker') {
    return { items: [] };
  }
  return { items: (await query.execute()).map(toProject) };
}

/** Adds a project. @throws FarmError `conflict` for a taken name */
export async function createProject(
  db: Kysely<Database>,
  input: { name: string; description?: string },
): Promise<Project> {
  try {
    const row = await db
      .insertInto('projects')
      .values({ name: input.name, description: input.description ?? '' })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toProject(row);
  } catch (error) {
    if (isSqlState(error, SQLSTATE.UNIQUE_VIOLATION)) {
      throw new FarmError('conflict', `there is a project "${input.name}" already`, {
        details: { name: input.name },
      });
    }
    throw error;
  }
}

/** Gives a user a role in a project. @throws FarmError `not_found` for an unknown user or project */
export async function setProjectMember(
  db: Kysely<Database>,
  projectId: string,
  userId: string,
  role: 'viewer' | 'artist' | 'manager',
): Promise<void> {
  const [project, user] = await Promise.all([
    db.selectFrom('projects').select('id').where('id', '=', projectId).executeTakeFirst(),
    db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst(),
  ]);
  if (!project)
    throw new FarmError('not_found', 'there is no such project', { details: { projectId } });
  if (!user) throw new FarmError('not_found', 'there is no such user', { details: { userId } });
  await db
    .insertInto('project_members')
    .values({ project_id: projectId, user_id: userId, role })
    .onConflict((oc) => oc.columns(['project_id', 'user_id']).doUpdateSet({ role }))
    .execute();
}

/** Takes a user's role in a project away (nothing when they had none). */
export async function removeProjectMember(
  db: Kysely<Database>,
  projectId: string,
  userId: string,
): Promise<void> {
  await db
    .deleteFrom('project_members')
    .where('project_id', '=', projectId)
    .where('user_id', '=', userId)
    .execute();
}
