import type { WorkerSocketPush } from '@farm/core';
import type { Wakeups } from '../../http/long-poll';
import type { ServiceContext } from '../service-context';
import type { ProgressBuffer } from './progress-buffer';
import type { WorkerPresence } from './worker-presence';

/** What the worker services need beyond the `ServiceContext`: the shell's worker channels. */
export interface WorkerChannels {
  /** The long-poll registry of idle workers' claims (`createWakeups()`). */
  wakeups: Wakeups;
  /** Sends a push over the worker's socket; false when it is not connected to this replica. */
  pushToWorker: (workerId: string, message: WorkerSocketPush) => boolean;
  /** Heartbeats in memory, written in batches; without it each heartbeat writes the database. */
  presence?: WorkerPresence;
  /** Progress reports of tasks assigned here, written in batches; without it each is written. */
  progress?: ProgressBuffer;
}

/** The context every worker service function takes. */
export type WorkerServiceContext = ServiceContext & WorkerChannels;
