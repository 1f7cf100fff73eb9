import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  FarmError,
  isFarmError,
  shouldStopCurrentTask,
  type WorkerRequestedStatus,
  type WorkerStatus,
} from '@farm/core';
import { backoffDelayMs, delay, type BackoffOptions } from './backoff';
import { previewFolders, type CommandRegistry } from './commands';
import type { WorkerConfig } from './config';
import { loadCredentials, saveCredentials, type WorkerCredentials } from './credentials';
import { discoverManager } from './discovery';
import { findProgram } from './find-program';
import { createHostStatsSampler } from './host-stats';
import { createManagerConnection, type ManagerConnection } from './manager-connection';
import { callManager, describeError, registerWorker, uploadTaskOutput } from './manager-http';
import { openOutbox, type Outbox, type OutboxEntry, type OutboxSendResult } from './outbox';
import { createOutputUploader, type OutputUploader } from './output-uploader';
import { createOutputWatcher, IMAGE_EXTENSIONS } from './output-watcher';
import {
  API_PREFIX,
  apiPlatform,
  type AssignedTask,
  type MayKeepRunning,
  type WorkerSocketPush,
  type WorkerStateChange,
} from './protocol';
import { runTask } from './run-task';
import { runSelfTest } from './self-test';
import { WORKER_VERSION } from './version';
import { createConsoleLogger, type WorkerLogger } from './worker-logger';

export interface WorkerDaemonOptions {
  config: WorkerConfig;
  logger?: WorkerLogger;
  /**
   * How often host stats go to the manager (and pending status requests are asked for) while a
   * task runs. 10 s.
   */
  heartbeatIntervalMs?: number;
  /**
   * The same while idle. 30 s: an idle worker has little new to say, its socket stays open, and
   * 5,000 idle workers beating every 10 s cost the manager more than the 5 % of a core they may
   * (docs/decisions/0028). Half the default worker timeout (1 min); an idle worker wrongly
   * timed out has no task to lose and is awake again at its next beat.
   */
  idleHeartbeatIntervalMs?: number;
  /**
   * The long-poll wait of a claim. 50 s: each ask of an idle worker costs the manager a claim
   * statement, so 5,000 idle workers asking every 30 s kept Postgres busy (docs/decisions/0028);
   * under the 60 s idle timeout of common proxies.
   */
  claimWaitMs?: number;
  /** An idle worker claims again after this long even without a `work-available` push. 30 s. */
  idleRecheckMs?: number;
  /** SIGTERM-to-SIGKILL grace for stopped programs. 5 s. */
  killGraceMs?: number;
  /** At shutdown, how long queued updates may take to reach the manager. 5 s. */
  shutdownFlushMs?: number;
  /** Reconnect and retry delays (0.5 s doubling to 30 s by default). */
  backoff?: BackoffOptions;
  /** Finds the manager when the config names none (mDNS by default). */
  discover?: (signal: AbortSignal) => Promise<string>;
  /** FFmpeg for preview downscaling; `null` for none; found on PATH by default. */
  ffmpeg?: string | null;
  registry?: CommandRegistry;
  progressIntervalMs?: number;
  logMaxDelayMs?: number;
}

/** A running worker: signs on, takes tasks, runs them, and signs off. */
export interface WorkerDaemon {
  /** Finds and signs on to the manager; resolves when signed on (retrying while it is unreachable). */
  start(): Promise<void>;
  /**
   * Shuts down as for SIGINT/SIGTERM: stops the running task, hands it back to the manager,
   * sends what is queued (bounded time), signs off. Resolves with the exit code (0).
   */
  stop(): Promise<number>;
  /** A local request (SIGUSR1/SIGUSR2) to sleep or wake; sleeping waits for the current task. */
  requestLocalStatus(status: 'asleep' | 'awake'): void;
  readonly status: WorkerStatus;
  readonly workerId: string | undefined;
  readonly managerUrl: string | undefined;
  readonly currentTaskId: string | undefined;
  /** Resolves with the process exit code once the daemon has ended (offline, restart or stop). */
  readonly exited: Promise<number>;
}

interface RunningTask {
  id: string;
  controller: AbortController;
}

const OUTBOX_FILE = 'outbox.jsonl';
const SIGN_OFF_TIMEOUT_MS = 3000;

/**
 * Creates the worker daemon. States: `awake` claims work over the socket and, when there is
 * none, waits for the manager's `work-available` push (or a slow re-check), never a tight loop;
 * `asleep` claims nothing; `testing` runs the self-test; `offline` signs off and ends.
 */
export function createWorkerDaemon(options: WorkerDaemonOptions): WorkerDaemon {
  const config = options.config;
  const logger = options.logger ?? createConsoleLogger();
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 10_000;
  const idleHeartbeatIntervalMs = Math.max(
    heartbeatIntervalMs,
    options.idleHeartbeatIntervalMs ?? 30_000,
  );
  const claimWaitMs = options.claimWaitMs ?? 50_000;
  const idleRecheckMs = options.idleRecheckMs ?? 30_000;
  const shutdownFlushMs = options.shutdownFlushMs ?? 5000;
  const sampleHost = createHostStatsSampler(config.workDir);
  const stopController = new AbortController();

  let status: WorkerStatus = 'starting';
  let managerUrl: string | undefined;
  let credentials: WorkerCredentials | undefined;
  let connection: ManagerConnection | undefined;
  let outbox: Outbox | undefined;
  let uploader: OutputUploader | undefined;
  // Without FFmpeg only PNG and JPEG can be sent as they are.
  let previewExtensions: readonly string[] = IMAGE_EXTENSIONS;
  let currentTask: RunningTask | undefined;
  let pendingRequest: { status: WorkerRequestedStatus; lazy: boolean } | undefined;
  let needsSignOn = true;
  let signOnRunning = false;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let loopPromise: Promise<void> | undefined;
  let finishing: Promise<number> | undefined;
  let stopping = false;
  const handBack = new Set<string>();

  let resolveExited!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (resolveExited = resolve));
  let resolveSignedOn!: () => void;
  const signedOn = new Promise<void>((resolve) => (resolveSignedOn = resolve));

  // Wakes the main loop: a push, a status request, a reconnection, a shutdown.
  let poked = false;
  const pokeWaiters = new Set<() => void>();
  const poke = (): void => {
    poked = true;
    for (const wake of [...pokeWaiters]) wake();
  };
  const waitForPoke = async (ms: number): Promise<void> => {
    if (!poked && !stopping) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          pokeWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        pokeWaiters.add(done);
      });
    }
    poked = false;
  };

  // Called when a status request arrives or the worker stops: ends a claim's long wait early.
  const requestWaiters = new Set<() => void>();
  const notifyRequest = (): void => {
    for (const wake of [...requestWaiters]) wake();
    requestWaiters.clear();
  };

  const conn = (): ManagerConnection => {
    if (connection === undefined) throw new FarmError('internal', 'the worker has not started');
    return connection;
  };

  // ------------------------------------------------------------------ identity and session

  async function register(url: string): Promise<WorkerCredentials> {
    const secret = config.registrationSecret;
    if (secret === undefined)
      throw new FarmError(
        'unauthenticated',
        `this worker is not registered with ${url}: give the farm's registration secret ` +
          '(--registration-secret or FARM_REGISTRATION_SECRET) for the first start',
      );
    for (let attempt = 0; ; attempt++) {
      try {
        const registered = await registerWorker(url, {
          secret,
          name: config.name,
          taskTypes: config.taskTypes,
          tags: config.tags,
        });
        const creds = { managerUrl: url, ...registered };
        await saveCredentials(config.dataDir, creds);
        logger.info(`registered with ${url} as worker ${registered.workerId}`);
        return creds;
      } catch (error) {
        if (!isFarmError(error) || error.code !== 'unavailable' || stopping) throw error;
        const wait = backoffDelayMs(attempt, options.backoff);
        logger.warn(`${error.message}; retrying in ${(wait / 1000).toFixed(1)} s`);
        await delay(wait, stopController.signal);
      }
    }
  }

  async function reRegister(): Promise<void> {
    if (managerUrl === undefined) return;
    logger.warn('the manager no longer accepts this worker token; registering again');
    try {
      credentials = await register(managerUrl);
      needsSignOn = true;
    } catch (error) {
      logger.error(describeError(error));
    }
  }

  async function signOn(): Promise<void> {
    if (signOnRunning) return;
    signOnRunning = true;
    try {
      const res = await conn().request('signOn', {
        body: {
          name: config.name,
          platform: apiPlatform(),
          taskTypes: config.taskTypes,
          ...(config.tags.length > 0 ? { tags: config.tags } : {}),
          version: WORKER_VERSION,
          hostStats: await sampleHost(),
        },
      });
      if (res.status !== 200) {
        logger.error(`sign-on refused (HTTP ${res.status}): ${describeBody(res.body)}`);
        return;
      }
      needsSignOn = false;
      logger.info(`signed on to ${managerUrl} as ${config.name} (${credentials?.workerId})`);
      const change = res.body as WorkerStateChange;
      requestStatus(change.statusRequested ?? 'awake', false);
      resolveSignedOn();
    } catch (error) {
      logger.warn(`sign-on failed: ${describeError(error)}`);
    } finally {
      signOnRunning = false;
    }
  }

  async function announceStatus(): Promise<void> {
    if (status === 'starting' || status === 'offline' || !connection?.connected) return;
    // The manager requeues a worker's active tasks when it leaves `awake`: it must first hear how
    // the last task ended, or a finished task would be run again elsewhere.
    if (outbox !== undefined && outbox.size > 0) await outbox.drain(30_000, stopController.signal);
    const announced = status;
    try {
      const res = await conn().request('stateChanged', { body: { status: announced } });
      if (res.status >= 300)
        logger.warn(`state-changed refused (HTTP ${res.status}): ${describeBody(res.body)}`);
    } catch (error) {
      // Sent again when the connection is back.
      logger.debug(`state-changed not delivered: ${describeError(error)}`);
    }
  }

  function onConnected(): void {
    logger.info(`connected to ${managerUrl}`);
    if (needsSignOn) {
      void signOn().then(() => outbox?.resume());
      return;
    }
    outbox?.resume();
    void announceStatus();
    const task = currentTask;
    if (task !== undefined) void checkMayRun(task);
    poke();
  }

  // A stop-task push sent while the socket was down is lost; ask once the connection is back.
  async function checkMayRun(task: RunningTask): Promise<void> {
    try {
      const res = await conn().request('mayIRun', { taskId: task.id });
      const answer = res.body as MayKeepRunning | undefined;
      if (
        (res.status === 200 && answer?.mayKeepRunning === false) ||
        res.status === 404 ||
        res.status === 409
      )
        stopTask(task.id, answer?.reason ?? 'the manager no longer assigns it to this worker');
    } catch {
      // Asked again at the next reconnection.
    }
  }

  // --------------------------------------------------------------------------- requests

  function requestStatus(requested: WorkerRequestedStatus, lazy: boolean): void {
    if (stopping) return;
    if (requested === status && currentTask === undefined) {
      pendingRequest = undefined;
      void announceStatus(); // acknowledges the request, so the manager clears it
      return;
    }
    pendingRequest = { status: requested, lazy };
    if (currentTask !== undefined && shouldStopCurrentTask({ status: requested, lazy })) {
      if (requested === 'offline' || requested === 'restart') handBack.add(currentTask.id);
      stopTask(currentTask.id, `the worker was asked to go ${requested}`);
    }
    notifyRequest();
    poke();
  }

  function stopTask(taskId: string, reason: string): void {
    if (currentTask?.id !== taskId || currentTask.controller.signal.aborted) return;
    logger.info(`stopping task ${taskId}: ${reason}`);
    currentTask.controller.abort(new FarmError('conflict', reason));
  }

  function onPush(push: WorkerSocketPush): void {
    switch (push.type) {
      case 'work-available':
        poke();
        break;
      case 'stop-task':
        stopTask(push.taskId, `the manager stopped it: ${push.reason}`);
        break;
      case 'status-request':
        logger.info(
          `the manager asks for status ${push.status}${push.lazy ? ' after the current task' : ''}`,
        );
        requestStatus(push.status, push.lazy);
        break;
    }
  }

  async function applyRequest(request: {
    status: WorkerRequestedStatus;
    lazy: boolean;
  }): Promise<void> {
    switch (request.status) {
      case 'offline':
        void finish(0, 'the manager asked this worker to shut down');
        return;
      case 'restart':
        void finish(config.restartExitCode, 'the manager asked this worker to restart');
        return;
      case 'testing': {
        const previous = status === 'testing' ? 'awake' : status;
        await setStatus('testing');
        const result = await runSelfTest({
          workDir: config.workDir,
          signal: stopController.signal,
        });
        for (const check of result.checks)
          logger.info(`self-test: ${check.ok ? 'ok' : 'FAILED'} ${check.name}: ${check.detail}`);
        if (!stopping) await setStatus(previous);
        return;
      }
      default:
        await setStatus(request.status);
    }
  }

  async function setStatus(next: WorkerStatus): Promise<void> {
    if (status !== next) logger.info(`status: ${status} -> ${next}`);
    status = next;
    await announceStatus();
  }

  // ------------------------------------------------------------------------- main loop

  async function loop(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      const request = pendingRequest;
      if (request !== undefined) {
        pendingRequest = undefined;
        await applyRequest(request);
        continue;
      }
      if (status !== 'awake') {
        await waitForPoke(60_000);
        continue;
      }
      const c = conn();
      if (!c.connected || needsSignOn) {
        await Promise.race([c.waitUntilConnected(stopController.signal), waitForPoke(60_000)]);
        if (needsSignOn && c.connected) await waitForPoke(1000);
        continue;
      }
      // The manager must hear how the last task ended before it hands out the next one, or it
      // would give this worker its own still-active task back.
      if (outbox !== undefined && outbox.size > 0) {
        await outbox.drain(1000, stopController.signal);
        continue;
      }
      poked = false;
      const claimedAt = Date.now();
      const claim = c.request('claim', {
        body: { waitMs: claimWaitMs },
        timeoutMs: claimWaitMs + 15_000,
      });
      // A status request must not wait for the long poll to end. A task the manager assigns in
      // the meantime is not lost: leaving `awake` (or signing off) hands it back.
      let onRequest = (): void => undefined;
      const first = await Promise.race([
        claim.then(
          (response) => ({ response }),
          (error: unknown) => ({ error }),
        ),
        new Promise<{ interrupted: true }>((resolve) => {
          onRequest = () => resolve({ interrupted: true });
          requestWaiters.add(onRequest);
          if (pendingRequest !== undefined || stopping) onRequest();
        }),
      ]);
      requestWaiters.delete(onRequest);
      if ('interrupted' in first) {
        claim.then(
          (late) => {
            if (late.status === 200)
              logger.info(`a task claimed while changing status goes back to the manager`);
          },
          () => undefined,
        );
        continue;
      }
      if ('error' in first) {
        logger.debug(`claim failed: ${describeError(first.error)}`);
        await waitForPoke(backoffDelayMs(failures++, options.backoff));
        continue;
      }
      const res = first.response;
      if (res.status === 200) {
        failures = 0;
        await executeTask(res.body as AssignedTask);
      } else if (res.status === 204) {
        failures = 0;
        // A manager that held the claim for its whole wait is long-polling: ask again at once.
        // One that answered straight away relies on its `work-available` push: wait for that.
        const heldMs = Date.now() - claimedAt;
        if (heldMs < claimWaitMs * 0.9) await waitForPoke(idleRecheckMs);
      } else if (res.status === 423) {
        const change = res.body as WorkerStateChange;
        if (change.statusRequested != null) requestStatus(change.statusRequested, change.lazy);
        else await waitForPoke(backoffDelayMs(failures++, options.backoff));
      } else if (res.status === 409) {
        // The manager thinks this worker is not awake (it restarted, or timed the worker out).
        logger.warn(`claim refused: ${describeBody(res.body)}; telling the manager the status`);
        await announceStatus();
        await waitForPoke(backoffDelayMs(failures++, options.backoff));
      } else {
        logger.warn(`claim refused (HTTP ${res.status}): ${describeBody(res.body)}`);
        if (res.status === 401) c.drop('the token was refused');
        await waitForPoke(backoffDelayMs(failures++, options.backoff));
      }
    }
  }

  async function executeTask(task: AssignedTask): Promise<void> {
    const box = outbox!;
    const running: RunningTask = { id: task.id, controller: new AbortController() };
    currentTask = running;
    box.adopt(task.id);
    logger.info(`running task ${task.id} "${task.name}" of job "${task.jobName}"`);
    const started = Date.now();
    const folders = previewFolders(task.commands, config.workDir);
    const watcher =
      uploader !== undefined && folders.length > 0
        ? createOutputWatcher({
            folders,
            extensions: previewExtensions,
            onImage: (imagePath) => uploader?.offer(task.id, imagePath),
            onError: (error) => logger.debug(`watching for previews: ${describeError(error)}`),
          })
        : undefined;
    if (watcher !== undefined) logger.debug(`watching ${folders.join(', ')} for previews`);
    try {
      const result = await runTask({
        task,
        report: (update) => {
          box.enqueue(task.id, update);
        },
        signal: running.controller.signal,
        workDir: config.workDir,
        killGraceMs: options.killGraceMs,
        // Blender's `Saved:` lines go through the watcher too, so a frame is sent once.
        onOutput: (imagePath) =>
          watcher ? watcher.offer(imagePath) : uploader?.offer(task.id, imagePath),
        beforeFinish: async () => {
          await watcher?.close({ flush: true });
          await uploader?.settled();
        },
        // Stops the manager asked for are reported, so a canceled job can settle; a shutdown's
        // stop ('unavailable') is handed back at sign-off instead.
        reportStop: (reason) => isFarmError(reason) && reason.code === 'conflict',
        registry: options.registry,
        progressIntervalMs: options.progressIntervalMs,
        logMaxDelayMs: options.logMaxDelayMs,
      });
      const took = ((Date.now() - started) / 1000).toFixed(1);
      if (result.outcome === 'completed') logger.info(`task ${task.id} completed in ${took} s`);
      else logger.info(`task ${task.id} ${result.outcome} after ${took} s: ${result.reason}`);
    } finally {
      await watcher?.close();
      currentTask = undefined;
    }
  }

  // ---------------------------------------------------------------------------- outbox

  async function sendUpdate(entry: OutboxEntry): Promise<OutboxSendResult> {
    const res = await conn().request('updateTask', { taskId: entry.taskId, body: entry.update });
    if (res.status < 300) return 'sent';
    if (res.status === 409 || res.status === 404 || res.status === 403) return 'not-yours';
    if (res.status === 400 || res.status === 413) {
      logger.warn(
        `task update for ${entry.taskId} refused (HTTP ${res.status}): ${describeBody(res.body)}`,
      );
      return 'rejected';
    }
    throw new FarmError('unavailable', `task update answered HTTP ${res.status}`);
  }

  function onAbandon(taskId: string): void {
    logger.warn(`task ${taskId} is no longer assigned to this worker; abandoning it`);
    stopTask(taskId, 'the task is no longer assigned to this worker');
  }

  // -------------------------------------------------------------------------- shutdown

  function finish(exitCode: number, why: string): Promise<number> {
    finishing ??= (async () => {
      logger.info(`shutting down: ${why}`);
      stopping = true;
      stopController.abort();
      notifyRequest();
      const task = currentTask;
      if (task !== undefined) {
        handBack.add(task.id);
        task.controller.abort(new FarmError('unavailable', 'the worker is shutting down'));
      }
      poke();
      clearTimeout(heartbeatTimer);
      await loopPromise?.catch(() => undefined);
      await uploader?.close();
      const c = connection;
      if (c !== undefined && outbox !== undefined && outbox.size > 0 && c.connected) {
        const drained = await outbox.drain(shutdownFlushMs);
        if (!drained) logger.warn(`${outbox.size} task updates stay queued for the next start`);
      }
      if (c !== undefined && credentials !== undefined && !needsSignOn)
        await signOff(c, credentials);
      await c?.close();
      await outbox?.close();
      status = 'offline';
      resolveExited(exitCode);
      return exitCode;
    })();
    return finishing;
  }

  async function signOff(c: ManagerConnection, creds: WorkerCredentials): Promise<void> {
    const body = handBack.size > 0 ? { handBackTaskIds: [...handBack] } : {};
    try {
      const res = c.connected
        ? await c.request('signOff', { body, timeoutMs: SIGN_OFF_TIMEOUT_MS })
        : await callManager(creds.managerUrl, 'POST', `${API_PREFIX}/worker/sign-off`, body, {
            token: creds.token,
            timeoutMs: SIGN_OFF_TIMEOUT_MS,
          });
      if (res.status < 300)
        logger.info(
          `signed off${handBack.size > 0 ? `, handing back ${[...handBack].join(', ')}` : ''}`,
        );
      else logger.warn(`sign-off refused (HTTP ${res.status}): ${describeBody(res.body)}`);
    } catch (error) {
      logger.warn(`could not sign off: ${describeError(error)}`);
    }
  }

  // ----------------------------------------------------------------------------- start

  async function start(): Promise<void> {
    await mkdir(config.workDir, { recursive: true });
    await mkdir(config.dataDir, { recursive: true });
    managerUrl = config.managerUrl;
    if (managerUrl === undefined) {
      logger.info('no manager URL given; looking for one on the local network (mDNS)');
      const discover =
        options.discover ??
        ((signal: AbortSignal) =>
          discoverManager({
            signal,
            onRetry: (n, ms) =>
              logger.info(`no manager found yet; looking again in ${(ms / 1000).toFixed(0)} s`),
          }));
      managerUrl = await discover(stopController.signal);
      logger.info(`found the manager at ${managerUrl}`);
    }
    const url = managerUrl;
    outbox = await openOutbox({
      file: path.join(config.dataDir, OUTBOX_FILE),
      send: sendUpdate,
      onAbandon,
      retryBackoff: options.backoff,
    });
    if (outbox.size > 0)
      logger.info(`${outbox.size} task updates from an earlier run wait to be sent`);
    const stored = await loadCredentials(config.dataDir);
    credentials = stored?.managerUrl === url ? stored : await register(url);
    const ffmpeg =
      options.ffmpeg === undefined ? findProgram('ffmpeg') : (options.ffmpeg ?? undefined);
    if (ffmpeg === undefined) previewExtensions = ['.png', '.jpg', '.jpeg'];
    uploader = createOutputUploader({
      ffmpeg,
      upload: async (taskId, image, contentType) => {
        const creds = credentials!;
        const code = await uploadTaskOutput(
          creds.managerUrl,
          creds.token,
          taskId,
          image,
          contentType,
        );
        if (code >= 300) logger.warn(`preview upload for task ${taskId} refused (HTTP ${code})`);
        else
          logger.debug(
            `preview of task ${taskId} uploaded (${image.byteLength} bytes, ${contentType})`,
          );
      },
      onError: (error) => logger.warn(`preview upload failed: ${describeError(error)}`),
    });
    connection = createManagerConnection({
      url,
      token: () => credentials!.token,
      onPush,
      onConnected,
      onDisconnected: (reason) =>
        logger.warn(`connection to the manager lost (${reason}); reconnecting`),
      onUnauthorized: reRegister,
      backoff: options.backoff,
    });
    connection.start();
    await Promise.race([signedOn, exited]);
    if (stopping) return;
    scheduleHeartbeat();
    loopPromise = loop().catch((error: unknown) => {
      logger.error(`worker loop failed: ${describeError(error)}`);
      void finish(1, 'internal error');
    });
  }

  // The next beat comes after the busy or the idle interval, as the worker is when it plans it.
  function scheduleHeartbeat(): void {
    if (stopping) return;
    heartbeatTimer = setTimeout(
      () => void heartbeat().finally(scheduleHeartbeat),
      currentTask === undefined ? idleHeartbeatIntervalMs : heartbeatIntervalMs,
    );
  }

  async function heartbeat(): Promise<void> {
    if (!connection?.connected || needsSignOn || stopping) return;
    try {
      const res = await conn().request('heartbeat', { body: { hostStats: await sampleHost() } });
      if (res.status !== 200) return;
      const change = res.body as WorkerStateChange;
      const requested = change.statusRequested;
      if (requested == null) return;
      if (requested === status && currentTask === undefined) void announceStatus();
      else if (pendingRequest?.status !== requested) requestStatus(requested, change.lazy);
    } catch {
      // The next beat tries again.
    }
  }

  return {
    start: () =>
      start().catch(async (error: unknown) => {
        stopping = true;
        await connection?.close();
        await outbox?.close();
        throw error;
      }),
    stop: () => finish(0, 'stop requested'),
    requestLocalStatus(requested) {
      logger.info(`local request: ${requested}`);
      requestStatus(requested, true);
    },
    get status() {
      return status;
    },
    get workerId() {
      return credentials?.workerId;
    },
    get managerUrl() {
      return managerUrl;
    },
    get currentTaskId() {
      return currentTask?.id;
    },
    exited,
  };
}

function describeBody(body: unknown): string {
  const b = body as { message?: unknown } | undefined;
  return typeof b?.message === 'string' ? b.message : JSON.stringify(body ?? null);
}
