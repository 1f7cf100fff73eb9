import { OPERATIONS as OPERATION_TABLE, type OperationSpec } from '@farm/core';
import { TABLE_NAMES } from '../../src/db';

/** Every operation of the API document, as a list. */
export const OPERATIONS: readonly OperationSpec[] = Object.values(OPERATION_TABLE);

/** The tables whose row counts must not change when a call is refused. */
export const TABLE_NAMES_FOR_TESTS: readonly string[] = TABLE_NAMES;
