import {
  FarmError,
  mayAccessJobWithRole,
  projectRoleRank,
  type JobAccess,
  type OperationRole,
} from '@farm/core';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import type { Principal, ProjectRoleName, UserPrincipal } from '../../http/principal';

export type { JobAccess };

/** The user's role per project id. */
export async function loadProjectRoles(
  db: Kysely<Database>,
  userId: string,
): Promise<Record<string, ProjectRoleName>> {
  const rows = await db
    .selectFrom('project_members')
    .select(['project_id', 'role'])
    .where('user_id', '=', userId)
    .execute();
  return Object.fromEntries(rows.map((row) => [row.project_id, row.role]));
}

/** The highest rank the user holds in any project (core's ranks; farm-wide powers come only from `users.is_admin`). */
function bestRank(principal: UserPrincipal): number {
  return Math.max(0, ...Object.values(principal.roles ?? {}).map(projectRoleRank));
}

/**
 * Whether a user may call an operation that needs `role` (`x-farm-role`): `any` lets every user
 * in, `admin` only farm admins, the project roles need that role (or more) in at least one
 * project; the operation then checks the project of what it touches.
 */
export function hasOperationRole(principal: UserPrincipal, role: OperationRole | null): boolean {
  if (principal.isAdmin || role === null || role === 'any') return true;
  if (role === 'admin') return false;
  // The operation roles viewer, artist and manager are project roles of the same names.
  return bestRank(principal) >= projectRoleRank(role);
}

/**
 * The project ids whose jobs the caller may see, or null for every project (farm admins and the
 * manager itself).
 */
export function visibleProjectIds(principal: Principal | null): string[] | null {
  if (principal === null || (principal.kind === 'user' && principal.isAdmin)) return null;
  if (principal.kind !== 'user') return [];
  return Object.keys(principal.roles ?? {});
}

/** True when the caller may see jobs of `projectId` (the live socket's per-event filter). */
export function canSeeProject(principal: Principal | null, projectId: string): boolean {
  if (principal === null) return true;
  if (principal.kind !== 'user') return false;
  return principal.isAdmin || projectRoleRank(principal.roles?.[projectId]) >= 1;
}

/**
 * Whether the caller may `access` a job of `projectId` submitted by `submitterId`: viewers see,
 * artists control their own jobs, managers control and manage every job of the project.
 */
export function mayAccessJob(
  principal: Principal | null,
  job: { projectId: string; submitterId: string | null },
  access: JobAccess,
): boolean {
  if (principal === null) return true;
  if (principal.kind !== 'user') return false;
  return mayAccessJobWithRole(
    {
      isAdmin: principal.isAdmin,
      role: principal.roles?.[job.projectId],
      isSubmitter: job.submitterId === principal.userId,
    },
    access,
  );
}

function refuse(access: JobAccess): FarmError {
  const what =
    access === 'view'
      ? "you have no role in this job's project"
      : access === 'manage'
        ? "only a manager of the job's project may do this"
        : 'artists control only their own jobs; managers control every job of their project';
  return new FarmError('forbidden', what);
}

/**
 * Checks the caller may `access` the jobs. Unknown jobs are left to the operation (its 404).
 * @throws FarmError `forbidden`
 */
export async function assertJobAccess(
  db: Kysely<Database>,
  principal: Principal | null,
  jobIds: readonly string[],
  access: JobAccess,
): Promise<void> {
  if (principal === null || (principal.kind === 'user' && principal.isAdmin)) return;
  if (jobIds.length === 0) return;
  const rows = await db
    .selectFrom('jobs')
    .select(['project_id', 'submitter_id'])
    .where('id', 'in', [...jobIds])
    .execute();
  for (const row of rows) {
    if (
      !mayAccessJob(principal, { projectId: row.project_id, submitterId: row.submitter_id }, access)
    )
      throw refuse(access);
  }
}

/** As `assertJobAccess`, for the jobs of these tasks. */
export async function assertTaskAccess(
  db: Kysely<Database>,
  principal: Principal | null,
  taskIds: readonly string[],
  access: JobAccess,
): Promise<void> {
  if (principal === null || (principal.kind === 'user' && principal.isAdmin)) return;
  if (taskIds.length === 0) return;
  const rows = await db
    .selectFrom('tasks as t')
    .innerJoin('jobs as j', 'j.id', 't.job_id')
    .select(['j.project_id', 'j.submitter_id'])
    .where('t.id', 'in', [...taskIds])
    .execute();
  for (const row of rows) {
    if (
      !mayAccessJob(principal, { projectId: row.project_id, submitterId: row.submitter_id }, access)
    )
      throw refuse(access);
  }
}

/**
 * Checks the caller may submit to `projectId` (artist or manager there).
 * @throws FarmError `forbidden`
 */
export function assertMaySubmit(principal: Principal | null, projectId: string): void {
  if (principal === null) return;
  if (principal.kind !== 'user') throw new FarmError('forbidden', 'workers cannot submit jobs');
  if (principal.isAdmin || projectRoleRank(principal.roles?.[projectId]) >= 2) return;
  throw new FarmError('forbidden', 'submitting needs the artist or manager role in the project');
}

// The access an operation's role stands for on the job it names: viewers see, artists control
// (their own jobs), managers manage; `any` and `admin` operations need no project check here.
const ACCESS_OF_ROLE: Partial<Record<OperationRole, JobAccess>> = {
  viewer: 'view',
  artist: 'control',
  manager: 'manage',
};

/**
 * The router's per-resource check (issue 7): an operation whose path names a job or a task
 * needs the access its `x-farm-role` stands for in that job's project. Generic, so operations
 * added later are covered by naming their parameters `jobId` / `taskId`.
 */
export function createResourceAuthorizer(db: Kysely<Database>) {
  return async (
    spec: { role: OperationRole | null },
    params: Readonly<Record<string, string>>,
    principal: Principal,
  ): Promise<void> => {
    const access = spec.role ? ACCESS_OF_ROLE[spec.role] : undefined;
    if (!access) return;
    if (params.jobId !== undefined) await assertJobAccess(db, principal, [params.jobId], access);
    if (params.taskId !== undefined) await assertTaskAccess(db, principal, [params.taskId], access);
  };
}
