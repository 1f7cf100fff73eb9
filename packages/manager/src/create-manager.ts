import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import chokidar from 'chokidar';
import type { Logger } from 'winston';
import {
  createJobTypeRegistry,
  resolveVariables,
  type Platform,
  type Readiness,
  type VariablesConfig,
} from '@farm/core';
import { loadOrCreateRegistrationSecret, type ResolvedConfig } from './config';
import { assertSchemaNotNewer, createDatabase, migrate, type FarmDatabase } from './db';
import { advertiseManager, type ManagerAdvertisement } from './discovery/advertise-manager';
import { startDuties } from './duties/run-duties';
import { fileStoreGcDuty } from './duties/file-store-gc';
import { createEventBus } from './events/event-bus';
import { createReplicaNotifier, notifyAll } from './events/replica-notifier';
import { startReplicaCensus } from './db/replica-census';
import { scheduleDuties } from './duties/schedule-duties';
import { createMetrics } from './metrics/create-metrics';
import { registerScheduleRoutes } from './routes/schedules';
import { watchJobDependencies } from './services/jobs/watch-job-dependencies';
import { createApp } from './http/create-app';
import type { OperationDefinition } from './http/define-operation';
import { createWakeups } from './http/long-poll';
import type { AuthenticateToken } from './http/principal';
import { startServer } from './http/serve';
import { startLocalWorker, type LocalWorker } from './local-worker';
import { createWorkWakeups } from './scheduler/work-wakeups';
import { createLogger } from './logging';
import { registerJobTypeRoutes } from './routes/job-types';
import { registerJobRoutes } from './routes/jobs';
import { registerMetaRoutes } from './routes/meta';
import { registerTaskRoutes } from './routes/tasks';
import { registerFileRoutes } from './routes/files';
import {
  createFileStore,
  createFileStoreLayout,
  withCheckoutsVariable,
} from './services/file-store';
import { registerNotificationRoutes } from './routes/notifications';
import { createNotifications, type Notifications } from './services/notifications';
import { registerLastRenderedRoutes } from './routes/last-rendered';
import { createPreviewService } from './services/previews';
import {
  authenticateSession,
  authenticateUserToken,
  createAccessTokens,
  createLoginThrottle,
  createResourceAuthorizer,
  ensureFirstAdmin,
  loadAccessTokenKey,
  recordAudit,
  type FirstAdmin,
} from './services/auth';
import { registerAuthRoutes } from './routes/auth';
import { registerUserRoutes } from './routes/users';
import { registerWorkerCredentialRoutes } from './routes/worker-credentials';
import { createLiveAccess } from './ws/live-access';
import type { ServiceContext } from './services/service-context';
import { createTaskLogStore } from './storage/task-log-store';
import { createWorkerSide } from './services/workers/create-worker-side';
import { createLiveSocket } from './ws/live-socket';
import { createWorkerSocket } from './ws/worker-socket';

/** A running manager. */
export interface RunningManager {
  /** `http://host:port` as the manager listens. */
  readonly url: string;
  readonly port: number;
  readonly config: Readonly<ResolvedConfig>;
  readonly database: FarmDatabase;
  /** The first-run admin, when this start created it (its token is shown once). */
  readonly firstAdmin: FirstAdmin | null;
  /** The secret workers register with. */
  readonly registrationSecret: string;
  /** Operations of the API document that this build does not serve yet (they answer 501). */
  readonly unimplementedOperations: readonly string[];
  /** Graceful stop: no new requests, long polls released, sockets closed, database closed. */
  close(): Promise<void>;
}

export interface CreateManagerOptions {
  logger?: Logger;
  /** Where the web app's build is; found next to the web package by default. */
  webDir?: string;
  /** Run the periodic duties (timeouts, sleep schedules, repair, clean-up). @default true */
  duties?: boolean;
}

const EVENTS_CHANNEL = 'farm_events';
const WORK_CHANNEL = 'farm_work';
/** Where a starting replica says hello (its event-bus origin), so the others notify it at once. */
const REPLICAS_CHANNEL = 'farm_replicas';
// The worker protocol carries log batches of up to 1 MiB inside a JSON body.
const JSON_BODY_LIMIT_FLOOR_BYTES = 2 * 1024 * 1024;

function managerVersion(): string {
  const file = path.join(__dirname, '..', 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

function findWebDir(): string | undefined {
  try {
    const dir = path.join(path.dirname(require.resolve('@farm/web/package.json')), 'dist');
    return fs.existsSync(path.join(dir, 'index.html')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

function nodePlatform(): Platform {
  if (process.platform === 'win32') return 'windows';
  if (process.platform === 'darwin') return 'darwin';
  return 'linux';
}

/**
 * Starts a manager from a resolved config: opens and migrates the database, creates the first
 * admin on an empty farm, loads job types (reloaded when the folder changes), wires services,
 * HTTP, websockets and cross-replica events, listens, and optionally advertises itself on the LAN
 * and runs a local worker.
 */
export async function createManager(
  config: Readonly<ResolvedConfig>,
  options: CreateManagerOptions = {},
): Promise<RunningManager> {
  const logger =
    options.logger ?? createLogger({ level: config.logLevel, format: config.logFormat });
  fs.mkdirSync(config.dataDir, { recursive: true });
  fs.mkdirSync(config.storageDir, { recursive: true });
  fs.mkdirSync(config.jobTypesDir, { recursive: true });

  const database = await createDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    log: {
      debug: (message, meta) => logger.debug(message, meta),
      info: (message, meta) => logger.info(message, meta),
      warn: (message, meta) => logger.warn(message, meta),
      error: (message, meta) => logger.error(message, meta),
    },
  });
  const cleanups: (() => Promise<void> | void)[] = [() => database.close()];
  let closed = false;
  const cleanUp = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const cleanup of [...cleanups].reverse()) {
      await Promise.resolve(cleanup()).catch((error: unknown) =>
        logger.warn('error while stopping', { error: String(error) }),
      );
    }
  };

  try {
    await assertSchemaNotNewer(database.db);
    const migrated = await migrate(database.db);
    if (migrated.applied.length > 0) {
      logger.info('database migrated', { applied: migrated.applied, database: database.location });
    }
    const firstAdmin = await ensureFirstAdmin(database.db, config.dataDir);
    const accessTokens = createAccessTokens(
      database.db,
      await loadAccessTokenKey(database.db, config.accessTokenKey),
    );
    const registration = loadOrCreateRegistrationSecret({
      dataDir: config.dataDir,
      configured: config.registrationSecret,
    });

    const jobTypes = createJobTypeRegistry({ folders: [config.jobTypesDir] });
    for (const problem of jobTypes.problems()) {
      logger.warn('job type not loaded', { ...problem });
    }
    const watcher = chokidar.watch(config.jobTypesDir, { ignoreInitial: true, depth: 0 });
    watcher.on('all', () => {
      const result = jobTypes.reload();
      logger.info('job types reloaded', { changed: result.changed, removed: result.removed });
      for (const problem of result.problems) logger.warn('job type not loaded', { ...problem });
    });
    cleanups.push(() => watcher.close());

    // Live events and work wake-ups of one tick reach the other replicas in one statement, and
    // only when there are other replicas.
    const census = startReplicaCensus(database, {
      onError: (error) => logger.warn('could not count the replicas', { error: String(error) }),
    });
    cleanups.push(() => census.stop());
    const replicaNotifier = createReplicaNotifier(
      (notes) => notifyAll(database.db, notes),
      (error) => logger.warn('could not notify other replicas', { error: String(error) }),
    );
    cleanups.push(() => replicaNotifier.flush());
    const events = createEventBus({
      publishRemote: (payload) => {
        if (census.othersPresent()) replicaNotifier.notify(EVENTS_CHANNEL, payload);
      },
      othersListening: () => census.othersPresent(),
      logger,
    });
    cleanups.push(() => events.close());
    const metrics = createMetrics({ db: database.db, logger });
    cleanups.push(() => metrics.close());
    cleanups.push(events.subscribe((event) => metrics.eventDelivered(event)));
    const unlistenEvents = await database.listen(EVENTS_CHANNEL, (payload) => {
      void events.receiveRemote(payload);
    });
    cleanups.push(unlistenEvents);
    const unlistenReplicas = await database.listen(REPLICAS_CHANNEL, (origin) => {
      if (origin !== events.origin) census.heardFromAnother();
    });
    cleanups.push(unlistenReplicas);
    await database.notify(REPLICAS_CHANNEL, events.origin);

    const wakeups = createWakeups();

    let authenticateWorker: AuthenticateToken = () => Promise.resolve(null);
    const authenticateToken: AuthenticateToken = async (token) =>
      (await authenticateUserToken(database.db, token)) ??
      (await authenticateWorker(token)) ??
      (await accessTokens.verify(token));

    // The worker socket exists before the services so they can push to workers.
    let onWorkerDisconnected: (workerId: string) => void = () => undefined;
    const workerSideRef: { handlers?: ReturnType<typeof createWorkerSide>['handlers'] } = {};
    const workerSocket = createWorkerSocket({
      logger,
      authenticateToken,
      workerHandlers: new Proxy({} as ReturnType<typeof createWorkerSide>['handlers'], {
        get: (_target, key) => {
          const handlers = workerSideRef.handlers;
          return handlers?.[key as keyof typeof handlers];
        },
      }),
      onWorkerDisconnected: (workerId) => {
        workWakeups.forget(workerId);
        onWorkerDisconnected(workerId);
      },
    });
    const workWakeups = createWorkWakeups({
      wakeups,
      pushToWorker: (workerId, message) => workerSocket.pushToWorker(workerId, message),
      notifyReplicas: () => {
        if (census.othersPresent()) replicaNotifier.notify(WORK_CHANNEL, '');
      },
    });
    // After a lost LISTEN connection (a database restart) wake-ups sent meanwhile are gone:
    // waking the idle workers once lets them ask for the work they may have missed.
    const unlistenWork = await database.listen(
      WORK_CHANNEL,
      () => workWakeups.wakeLocal(),
      () => workWakeups.wakeLocal(),
    );
    cleanups.push(unlistenWork);

    const notificationsRef: { current?: Notifications } = {};
    const ctx: ServiceContext = {
      db: database.db,
      config,
      jobTypes,
      // Core validates the variables section and lists every problem in it.
      variables: resolveVariables(
        withCheckoutsVariable(
          config.variables,
          createFileStoreLayout(config.storageDir),
        ) as VariablesConfig,
      ),
      platform: nodePlatform(),
      logs: createTaskLogStore({ dir: config.storageDir }),
      publish: (event) => {
        metrics.eventPublished(event);
        events.publish(event);
        // Captured here, on the replica that made the change, so each is stored once.
        notificationsRef.current?.capture(event);
      },
      wakeWorkers: () => workWakeups.wake(),
      stopTasks: (taskIds, reason) => workerSide.stopTasks(taskIds, reason),
      logger,
    };
    cleanups.push(() => ctx.logs.close?.());
    const notifications = createNotifications(ctx);
    notificationsRef.current = notifications;
    cleanups.push(() => notifications.stop());

    // Closed before the database (cleanups run in reverse): a queued image needs it to finish.
    const previews = createPreviewService(ctx);
    cleanups.push(() => previews.close());
    const workerSide = createWorkerSide(ctx, {
      registrationSecret: registration.secret,
      previews,
      wakeups,
      pushToWorker: (workerId, message) => workerSocket.pushToWorker(workerId, message),
    });
    // Heartbeats are answered from memory, kept current by every replica's worker events.
    cleanups.push(() => workerSide.close());
    cleanups.push(events.subscribe((event) => workerSide.presence.onEvent(event)));
    cleanups.push(events.subscribe((event) => workerSide.progress.onEvent(event)));
    const workerHandlers = workWakeups.trackClaims(workerSide.handlers);
    workerSideRef.handlers = workerHandlers;
    authenticateWorker = workerSide.authenticateWorkerToken;
    onWorkerDisconnected = workerSide.onWorkerDisconnected;

    const fileStore = createFileStore(ctx);

    // --- failure-handling duties (issue 8): start here, stopped before the database closes ---
    if (options.duties !== false) {
      const duties = startDuties(
        {
          ...ctx,
          wakeups,
          pushToWorker: (workerId, message) => workerSocket.pushToWorker(workerId, message),
        },
        database,
        {
          extraDuties: [fileStoreGcDuty(fileStore, config), ...scheduleDuties(ctx)].filter(
            (duty) => duty !== null,
          ),
        },
      );
      cleanups.push(() => duties.stop());
    }
    // --- end of duties ---

    const operations: OperationDefinition[] = [];
    registerMetaRoutes(operations, ctx);
    registerJobTypeRoutes(operations, ctx);
    registerJobRoutes(operations, ctx);
    registerTaskRoutes(operations, ctx);
    registerFileRoutes(operations, fileStore);
    registerNotificationRoutes(operations, ctx, notifications);
    registerLastRenderedRoutes(operations, ctx);
    registerScheduleRoutes(operations, ctx);
    // Waiting jobs start when their last dependency completes (on any replica: the update is guarded).
    cleanups.push(watchJobDependencies(ctx, events));
    workerSide.registerRoutes(operations);
    // --- users, projects, roles and tokens (issue 7) ---
    registerAuthRoutes(operations, ctx, { throttle: createLoginThrottle(), accessTokens });
    registerUserRoutes(operations, ctx);
    registerWorkerCredentialRoutes(operations, ctx, {
      ...(registration.file && registration.source !== 'config'
        ? { registrationSecretFile: registration.file }
        : {}),
      forgetWorkerToken: (workerId) => workerSide.authenticateWorkerToken.forget(workerId),
      disconnectWorker: (workerId, reason) => workerSocket.disconnectWorker(workerId, reason),
    });
    // --- end of issue 7 routes ---

    const liveSocket = createLiveSocket({
      logger,
      authenticateToken,
      events,
      ...createLiveAccess(database.db),
    });
    const app = createApp({
      logger,
      authenticateToken,
      authenticateSession: (secret) => authenticateSession(database.db, secret),
      audit: (record) => recordAudit(database.db, logger, record),
      authorizeResource: createResourceAuthorizer(database.db),
      readiness: async (): Promise<Readiness> => {
        try {
          await sql`select 1`.execute(database.db);
          return { ready: true, checks: { database: { ok: true } } };
        } catch (error) {
          return { ready: false, checks: { database: { ok: false, message: String(error) } } };
        }
      },
      version: { name: 'farm-manager', version: managerVersion() },
      workerHandlers,
      operations,
      metrics,
      webDir: options.webDir ?? findWebDir(),
      jsonBodyLimitBytes: Math.max(config.bodyLimitBytes, JSON_BODY_LIMIT_FLOOR_BYTES),
    });

    const server = await startServer(app, {
      port: config.port,
      host: config.host,
      attach: [(s) => workerSocket.attach(s), (s) => liveSocket.attach(s)],
      releaseLongPolls: () => wakeups.releaseAll(),
    });
    cleanups.push(() => server.close());

    let advertisement: ManagerAdvertisement | null = null;
    if (config.discovery) {
      advertisement = advertiseManager({
        name: `Farm manager on ${os.hostname()}`,
        port: server.port,
        version: managerVersion(),
      });
      cleanups.push(() => advertisement?.stop());
    }

    const loopbackUrl = `http://127.0.0.1:${server.port}`;
    let localWorker: LocalWorker | null = null;
    if (config.localWorker) {
      localWorker = startLocalWorker({
        managerUrl: loopbackUrl,
        registrationSecret: registration.secret,
        dataDir: path.join(config.dataDir, 'local-worker'),
        logger,
      });
      cleanups.push(() => localWorker?.stop());
    }

    return {
      url: server.url,
      port: server.port,
      config,
      database,
      firstAdmin,
      registrationSecret: registration.secret,
      unimplementedOperations: [...(app.locals.unimplementedOperations as string[])],
      close: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
