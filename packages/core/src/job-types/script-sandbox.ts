import { types } from 'node:util';
import vm from 'node:vm';
import { FarmError } from '../errors';
import { formatTimestampLocal, frameChunker, frameCount, scriptPath, shellSplit } from './helpers';
import { SANDBOX_PRELUDE_SOURCE } from './sandbox-prelude';

/** Default limit for one run of script code. */
export const DEFAULT_SCRIPT_TIMEOUT_MS = 5000;
/** `print`/`alert` lines kept per run; a script printing in a loop must not fill the manager's memory. */
export const MAX_SCRIPT_MESSAGES = 1000;

const prelude = new vm.Script(SANDBOX_PRELUDE_SOURCE, { filename: 'farm:job-type-runtime' });
const describeDriver = new vm.Script('__farmRuntime__.describe()', { filename: 'farm:describe' });
const compileDriver = new vm.Script('__farmRuntime__.compile()', { filename: 'farm:compile' });
const errorDriver = new vm.Script('__farmRuntime__.describeError()', { filename: 'farm:error' });

type Primitive = string | number | boolean | undefined;

/** What the prelude reads once, before any script code runs. */
export interface SandboxInput {
  platform: string;
  cwd: string;
  maxTasks: number;
  job?: {
    id: string;
    name: string;
    jobType: string;
    priority: number;
    createdMs: number;
    settings: Record<string, unknown>;
    metadata: Record<string, string>;
  };
}

/** The platform names Flamenco scripts compare against. */
export function scriptPlatform(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return 'windows';
  return platform;
}

function stringArg(value: Primitive): string {
  if (typeof value !== 'string') throw new TypeError('expected a string');
  return value;
}

function hostCall(name: string, a: Primitive, b: Primitive, input: SandboxInput): unknown {
  switch (name) {
    case 'input':
      return input;
    case 'frameChunker':
      return frameChunker(stringArg(a), Number(b));
    case 'frameCount':
      return frameCount(stringArg(a));
    case 'shellSplit':
      return shellSplit(stringArg(a));
    case 'formatTimestampLocal':
      return formatTimestampLocal(new Date(Number(a)));
    case 'basename':
      return scriptPath.basename(stringArg(a));
    case 'dirname':
      return scriptPath.dirname(stringArg(a));
    case 'stem':
      return scriptPath.stem(stringArg(a));
    case 'join':
      return b === undefined
        ? scriptPath.join(stringArg(a))
        : scriptPath.join(stringArg(a), stringArg(b));
    default:
      throw new Error(`unknown runtime call ${name}`);
  }
}

/**
 * One fresh V8 context with the authoring API installed; scripts run in it one after the other.
 * A new context per compilation means one submission can never see another's leftovers.
 */
export class ScriptSandbox {
  readonly messages: string[] = [];
  private droppedMessages = 0;
  private readonly context: vm.Context;
  private readonly timeoutMs: number;
  /** A context object no script can reach, used to hand a thrown value back in for describing. */
  private readonly slot: Record<string, unknown>;

  constructor(input: SandboxInput, options: { timeoutMs?: number } = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_SCRIPT_TIMEOUT_MS;
    // An ordinary global object of the new context, not a contextified host object: Node
    // routes every global lookup of a contextified object through C++ interceptors, about 0.5 µs
    // each, which were a third of compiling a 100,000-task job (a script looks up `author` and
    // its own functions per task). Nothing of the host realm is on this global either, so
    // `this.constructor.constructor` is the context's own Function, which cannot compile
    // strings (codeGeneration below).
    this.context = vm.createContext(vm.constants.DONT_CONTEXTIFY, {
      name: 'farm job type',
      codeGeneration: { strings: false, wasm: false },
      // Promise callbacks run inside the timeout instead of later on the manager's own queue.
      microtaskMode: 'afterEvaluate',
    });
    // The bridge only ever receives and returns primitives, so no host object crosses over.
    // It is set before any code runs in the context; the prelude takes it off the global first.
    const bridge = (name: unknown, a: unknown, b: unknown): string => {
      if (name === 'print') {
        this.addMessage(typeof a === 'string' ? a : String(a));
        return 'v';
      }
      try {
        if (typeof name !== 'string' || !isPrimitive(a) || !isPrimitive(b)) {
          throw new Error('runtime calls take primitive arguments only');
        }
        const value = hostCall(name, a, b, input);
        return typeof value === 'string' ? `v${value}` : `j${JSON.stringify(value)}`;
      } catch (error) {
        return `e${error instanceof Error ? error.message : String(error)}`;
      }
    };
    Object.defineProperty(this.context, '__farmBridge__', {
      value: bridge,
      writable: true,
      configurable: true,
      enumerable: false,
    });
    this.slot = prelude.runInContext(this.context, { timeout: this.timeoutMs }) as Record<
      string,
      unknown
    >;
  }

  /** Runs a compiled script in this context, turning a timeout into a `compile_failed` error. */
  run(script: vm.Script, what: string): unknown {
    try {
      return script.runInContext(this.context, {
        timeout: this.timeoutMs,
        displayErrors: false,
        breakOnSigint: false,
      });
    } catch (error) {
      throw this.toFarmError(error, what);
    }
  }

  /** Runs the driver that reads `JOB_TYPE`; returns its JSON text. */
  describe(): string {
    return this.runDriver(describeDriver, 'reading JOB_TYPE');
  }

  /** Runs the driver that calls `compileJob(job)`; returns its JSON text. */
  compile(): string {
    return this.runDriver(compileDriver, 'compileJob(job)');
  }

  private runDriver(script: vm.Script, what: string): string {
    const result = this.run(script, what);
    if (typeof result !== 'string') {
      throw new FarmError('compile_failed', `${what} did not produce a result`);
    }
    return result;
  }

  private addMessage(line: string): void {
    if (this.messages.length < MAX_SCRIPT_MESSAGES) this.messages.push(line);
    else this.droppedMessages++;
  }

  /** The collected `print`/`alert` lines, with a note when some were dropped. */
  collectedMessages(): string[] {
    return this.droppedMessages === 0
      ? [...this.messages]
      : [...this.messages, `(${this.droppedMessages} more messages were dropped)`];
  }

  private toFarmError(error: unknown, what: string): FarmError {
    if (typeof error === 'string') return new FarmError('compile_failed', error);
    if (error === null || (typeof error !== 'object' && typeof error !== 'function')) {
      return new FarmError('compile_failed', `${what} failed: ${String(error)}`);
    }
    // Node's timeout error comes from the host; only an own data property is read, because
    // reading anything else of a value the script threw could run script code (a getter or a
    // proxy trap) outside the time limit.
    if (!types.isProxy(error)) {
      const code = Object.getOwnPropertyDescriptor(error, 'code');
      if (code !== undefined && code.value === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
        return new FarmError(
          'compile_failed',
          `${what} took longer than ${this.timeoutMs} ms and was stopped (an endless loop?)`,
        );
      }
    }
    return new FarmError('compile_failed', this.describeThrown(error, what));
  }

  // The message of an error object from the script's realm is read by code inside the context,
  // under the time limit, because its properties may be getters.
  private describeThrown(error: unknown, what: string): string {
    try {
      this.slot.error = error;
      const reply: unknown = errorDriver.runInContext(this.context, { timeout: this.timeoutMs });
      const parsed = typeof reply === 'string' ? (JSON.parse(reply) as { error?: unknown }) : {};
      return typeof parsed.error === 'string' ? parsed.error : `${what} failed`;
    } catch {
      return `${what} failed, and what it threw could not be read in time`;
    }
  }
}

function isPrimitive(value: unknown): value is Primitive {
  return (
    value === undefined ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  );
}
