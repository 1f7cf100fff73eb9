/** A user's role in one project. A project `admin` role (kept from the first schema) counts as manager. */
export type ProjectRoleName = 'viewer' | 'artist' | 'manager' | 'admin';

/** What a caller wants to do with a job: see it, control it (artists: own jobs), or manage it. */
export type JobAccess = 'view' | 'control' | 'manage';

const RANK: Readonly<Record<ProjectRoleName, number>> = {
  viewer: 1,
  artist: 2,
  manager: 3,
  admin: 3,
};

/** The rank of a project role: 0 for none or an unknown name, 1 viewer, 2 artist, 3 manager. */
export function projectRoleRank(role: string | null | undefined): number {
  return role && Object.hasOwn(RANK, role) ? RANK[role as ProjectRoleName] : 0;
}

/**
 * Whether someone may `access` a job, from their role in the job's project: viewers see, artists
 * control the jobs they submitted, managers control and manage every job of the project; farm
 * admins do everything. The manager enforces it; the web app uses it to offer only allowed actions.
 */
export function mayAccessJobWithRole(
  who: { isAdmin: boolean; role: string | null | undefined; isSubmitter: boolean },
  access: JobAccess,
): boolean {
  if (who.isAdmin) return true;
  const rank = projectRoleRank(who.role);
  if (access === 'view') return rank >= 1;
  if (access === 'manage') return rank >= 3;
  return rank >= 3 || (rank >= 2 && who.isSubmitter);
}
