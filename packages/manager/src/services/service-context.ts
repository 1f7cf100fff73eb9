import type { Kysely } from 'kysely';
import type { Logger } from 'winston';
import type { JobTypeRegistry, Platform, ResolvedVariables } from '@farm/core';
import type { ResolvedConfig } from '../config';
import type { Database } from '../db';
import type { BroadcastEvent } from '@farm/core';
import type { TaskLogStore } from '../storage/task-log-store';

/**
 * What the manager's services need, built once by the composition (`create-manager.ts`) and
 * passed first to every service function. An interface, so tests can build a small one.
 */
export interface ServiceContext {
  db: Kysely<Database>;
  config: Readonly<ResolvedConfig>;
  jobTypes: JobTypeRegistry;
  /** The farm's variables, resolved from the config (two-way replacement, `getVariables`). */
  variables: ResolvedVariables;
  /** The platform the manager runs on (`manager` as a submitter platform means this one). */
  platform: Platform;
  logs: TaskLogStore;
  /** Sends a live event to subscribers on every replica; call it after the change committed. */
  publish(event: BroadcastEvent): void;
  /** Tells idle workers (long polls, sockets) that new work may be available. */
  wakeWorkers(): void;
  /** Tells the workers running these tasks to stop them at once (the worker side pushes). */
  stopTasks(taskIds: string[], reason: string): void;
  logger: Logger;
}
