import type { Migration } from 'kysely';
import * as m0001 from './0001-init';
import * as m0002 from './0002-duties';

/**
 * Every migration this build knows, in order. A static list rather than a folder scan: dynamic
 * imports break under jest and bundlers. Append only; names sort in apply order.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-init': m0001,
  '0002-duties': m0002,
});
