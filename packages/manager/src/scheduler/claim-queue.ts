import type { Kysely } from 'kysely';
import type { Database } from '../db';
import {
  createGroupCommit,
  type BatchResult,
  type GroupCommit,
} from '../services/workers/group-commit';
import { claimTask, claimTasks, type ClaimRequest, type ClaimResult } from './claim-task';

/**
 * The most claims one statement carries. It was 32 while each worker of a batch scanned (and
 * locked) k rows to find its k-th task and all of a batch's workers chose the same job; since
 * the statement reads one pool of tasks per job and spreads a batch over jobs by their runnable
 * counts, its cost grows with the batch instead of with its square, and fewer, larger statements
 * win (`node bench/run.js --only dispatch-postgres-ws`: claim p50 197 -> 126 ms at the same rate
 * on a loaded machine; `bench/tools/time-claim-batches.js 20000 100 20 2000`: 100 claims over
 * 2,000 jobs in 60 ms).
 */
export const MAX_CLAIM_BATCH = 100;

/**
 * Claims that arrive while a claim statement runs wait and go together in the next one
 * (`claimTasks`): a busy job's row is then locked once per batch instead of once per worker,
 * and the statement, whose planning cost more than its execution, is planned once
 * (docs/decisions/0017). A lone claim runs at once.
 */
export type ClaimQueue = GroupCommit<ClaimRequest, ClaimResult>;

/** Creates a claim queue over `db`. */
export function createClaimQueue(db: Kysely<Database>): ClaimQueue {
  return createGroupCommit<ClaimRequest, ClaimResult>((items) => runClaimBatch(db, items), {
    maxBatch: MAX_CLAIM_BATCH,
  });
}

async function runClaimBatch(
  db: Kysely<Database>,
  items: readonly ClaimRequest[],
): Promise<BatchResult<ClaimResult>[]> {
  // A worker is in a statement at most once (it could otherwise get two tasks): a second claim
  // of the same worker in this batch runs after the first.
  const seen = new Set<string>();
  const first: number[] = [];
  const again: number[] = [];
  items.forEach((item, index) => {
    if (seen.has(item.workerId)) again.push(index);
    else {
      seen.add(item.workerId);
      first.push(index);
    }
  });
  const results = new Array<BatchResult<ClaimResult>>(items.length);
  try {
    const claimed = await claimTasks(
      db,
      first.map((index) => items[index]!),
    );
    first.forEach((index, position) => {
      results[index] = { ok: true, value: claimed[position]! };
    });
  } catch {
    // The whole statement failed (a deadlock with another replica, the database going away):
    // each claim is tried alone, so each caller gets its own answer or error.
    await Promise.all(
      first.map(async (index) => (results[index] = await claimAlone(db, items[index]!))),
    );
  }
  for (const index of again) results[index] = await claimAlone(db, items[index]!);
  return results;
}

async function claimAlone(
  db: Kysely<Database>,
  item: ClaimRequest,
): Promise<BatchResult<ClaimResult>> {
  try {
    return { ok: true, value: await claimTask(db, item.workerId, item.options) };
  } catch (error) {
    return { ok: false, error };
  }
}

// One queue per database handle, so every caller of one manager shares it without a new field
// in the service context; a handle that is gone takes its queue with it.
const queues = new WeakMap<Kysely<Database>, ClaimQueue>();

/** The claim queue of this database handle (created on first use). */
export function claimQueueOf(db: Kysely<Database>): ClaimQueue {
  let queue = queues.get(db);
  if (!queue) {
    queue = createClaimQueue(db);
    queues.set(db, queue);
  }
  return queue;
}
