import { mayAccessJobWithRole, projectRoleRank, type JobAccess } from './project-roles';

describe('project roles', () => {
  it('ranks viewer < artist < manager, a project admin as manager, anything else as none', () => {
    expect(
      ['viewer', 'artist', 'manager', 'admin', 'owner', null, undefined].map(projectRoleRank),
    ).toEqual([1, 2, 3, 3, 0, 0, 0]);
  });

  it('lets viewers see, artists control their own jobs, managers control and manage all', () => {
    const table = (role: string | null, isSubmitter: boolean): string =>
      (['view', 'control', 'manage'] as JobAccess[])
        .map((access) =>
          mayAccessJobWithRole({ isAdmin: false, role, isSubmitter }, access) ? 'y' : '-',
        )
        .join('');
    expect({
      none: table(null, true),
      viewerOwn: table('viewer', true),
      artistOwn: table('artist', true),
      artistOther: table('artist', false),
      manager: table('manager', false),
    }).toEqual({
      none: '---',
      viewerOwn: 'y--',
      artistOwn: 'yy-',
      artistOther: 'y--',
      manager: 'yyy',
    });
    expect(mayAccessJobWithRole({ isAdmin: true, role: null, isSubmitter: false }, 'manage')).toBe(
      true,
    );
  });
});
