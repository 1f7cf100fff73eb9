import type { Migration } from 'kysely';
import * as m0001 from './0001-init';
import * as m0002 from './0002-duties';
import * as m0003 from './0003-users-and-audit';
import * as m0004 from './0004-file-store';
import * as m0005 from './0005-notifications';
import * as m0006 from './0006-schedules-and-job-dependencies';
import * as m0007 from './0007-tasks-without-job-foreign-key';

/**
 * Every migration this build knows, in order. A static list rather than a folder scan: dynamic
 * imports break under jest and bundlers. Append only; names sort in apply order.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-init': m0001,
  '0002-duties': m0002,
  '0003-users-and-audit': m0003,
  '0004-file-store': m0004,
  '0005-notifications': m0005,
  '0006-schedules-and-job-dependencies': m0006,
  '0007-tasks-without-job-foreign-key': m0007,
});
