/**
 * The JavaScript that runs first in every job-script context and builds the authoring API
 * (Flamenco 3.9's globals) out of the context's own objects. It is kept as source text, not a
 * TypeScript function, so that coverage instrumentation can never rewrite it.
 *
 * Security rests on one rule: no object of the host realm is ever reachable from script code,
 * because any host object leads to the host's `Function` and from there to `process`. The only
 * host value the prelude sees is the bridge function, which it takes off the global object before
 * any script runs and calls with primitives only; the bridge answers with one string: `v` + text,
 * `j` + JSON or `e` + an error message.
 */
export const SANDBOX_PRELUDE_SOURCE = String.raw`'use strict';
(function (global) {
  const bridge = global.__farmBridge__;
  delete global.__farmBridge__;
  for (const name of ['Atomics', 'SharedArrayBuffer', 'WebAssembly']) delete global[name];
  // Node hands stack frames to Error.prepareStackTrace; frames can expose host objects, so the
  // hook is pinned to "none" and Error itself cannot be swapped.
  Object.defineProperty(Error, 'prepareStackTrace', { value: undefined, writable: false, configurable: false });
  Object.defineProperty(global, 'Error', { value: Error, writable: false, configurable: false });
  // The host hands thrown values back in through this object, which no script can reach.
  const slot = Object.create(null);

  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const ErrorCtor = Error;
  const TypeErrorCtor = TypeError;
  const StringCtor = String;
  const NumberCtor = Number;
  const DateCtor = Date;
  const dateGetTime = Date.prototype.getTime;
  const apply = Reflect.apply;
  const isArray = Array.isArray;
  const freeze = Object.freeze;
  const defineProperty = Object.defineProperty;
  const MapCtor = Map;
  const mapGet = Map.prototype.get;
  const mapSet = Map.prototype.set;
  const mapHas = Map.prototype.has;
  const MAX_MESSAGE_CHARS = 10000;

  function host(name, a, b, c) {
    const reply = bridge(name, a, b, c);
    const kind = reply[0];
    const body = reply.slice(1);
    if (kind === 'v') return body;
    if (kind === 'j') return parse(body);
    throw new ErrorCtor(body);
  }
  const input = host('input');

  function text(value, what) {
    if (typeof value !== 'string') {
      throw new TypeErrorCtor(what + ' must be a string, got ' + (value === null ? 'null' : typeof value));
    }
    return value;
  }
  function show(value) {
    if (typeof value === 'string') return value;
    try {
      const json = stringify(value);
      return json === undefined ? StringCtor(value) : json;
    } catch (error) {
      return StringCtor(value);
    }
  }
  function say(prefix, args) {
    let line = prefix;
    for (let i = 0; i < args.length; i++) line += (i === 0 ? '' : ' ') + show(args[i]);
    if (line.length > MAX_MESSAGE_CHARS) line = line.slice(0, MAX_MESSAGE_CHARS) + '... (cut)';
    bridge('print', line);
  }

  // tags and dependencies are made on first use: most tasks of a big job have neither, and
  // 100,000 tasks would otherwise mean 200,000 empty arrays. dependencies holds task objects,
  // so it is not enumerable and stays out of the JSON text.
  const hasOwn = Object.prototype.hasOwnProperty;
  function own(target, key, value, enumerable) {
    defineProperty(target, key, { value: value, writable: true, enumerable: enumerable, configurable: true });
    return value;
  }
  // Where job.addTask put a task, kept in a private field: with a Map of 100,000 entries addTask
  // took 20-50 ms of CPU for such a job, 4 ms now. Only this prelude can read or set it, and
  // "#position in value" tells a real task from an object made from Task.prototype (or a proxy)
  // without running any script code.
  let isTask, positionOf, setPosition;
  class Task {
    #position = -1;
    static {
      isTask = (value) => value !== null && typeof value === 'object' && #position in value;
      positionOf = (task) => task.#position;
      setPosition = (task, position) => {
        task.#position = position;
      };
    }
    constructor(name, type) {
      const trimmedName = text(name, 'author.Task name').trim();
      const trimmedType = text(type, 'author.Task type').trim();
      if (trimmedName === '') throw new ErrorCtor('author.Task needs a name');
      if (trimmedType === '') throw new ErrorCtor('author.Task "' + trimmedName + '" needs a task type');
      this.name = trimmedName;
      this.type = trimmedType;
      // An empty array with room for one element: the first push into "[]" makes room for 16,
      // 130 bytes more per task that a 100,000-task job keeps until the end of compileJob (a
      // third of the script's memory, copied by every garbage collection it survives).
      const commands = [undefined];
      commands.pop();
      this.commands = commands;
    }
    // Priority 50 is not stored until a script sets another, which keeps it out of the JSON text.
    get priority() {
      return 50;
    }
    set priority(value) {
      own(this, 'priority', value, true);
    }
    get tags() {
      return own(this, 'tags', [], true);
    }
    set tags(value) {
      own(this, 'tags', value, true);
    }
    get dependencies() {
      return own(this, 'dependencies', [], false);
    }
    set dependencies(value) {
      own(this, 'dependencies', value, false);
    }
    addCommand(command) {
      if (typeof command !== 'object' || command === null) {
        throw new TypeErrorCtor('task "' + this.name + '": addCommand needs a command made with author.Command');
      }
      this.commands.push(command);
    }
    addDependency(task) {
      if (!(task instanceof Task)) {
        throw new TypeErrorCtor('task "' + this.name + '": addDependency needs a task made with author.Task');
      }
      this.dependencies.push(task);
    }
  }

  const author = freeze({
    Task: function (name, type) {
      return new Task(name, type);
    },
    Command: function (name, parameters, steps) {
      const command = { name: text(name, 'author.Command name'), parameters: parameters };
      if (steps !== undefined) command.steps = steps;
      return command;
    },
  });

  const path = freeze({
    basename: (p) => host('basename', text(p, 'path.basename argument')),
    dirname: (p) => host('dirname', text(p, 'path.dirname argument')),
    stem: (p) => host('stem', text(p, 'path.stem argument')),
    join: function () {
      let joined = '';
      for (let i = 0; i < arguments.length; i++) {
        const part = text(arguments[i], 'path.join argument ' + (i + 1));
        joined = i === 0 ? part : host('join', joined, part);
      }
      return arguments.length === 1 ? host('join', joined) : joined;
    },
  });
  const processApi = freeze({
    platform: input.platform,
    cwd: () => input.cwd,
  });
  const modules = { author: author, path: path, process: processApi };

  const globals = {
    author: author,
    path: path,
    process: processApi,
    frameChunker: (range, chunkSize) =>
      host('frameChunker', text(StringCtor(range), 'frame range'), NumberCtor(chunkSize)),
    frameCount: (range) => NumberCtor(host('frameCount', text(StringCtor(range), 'frame range'))),
    shellSplit: (line) => host('shellSplit', text(line, 'shellSplit argument')),
    formatTimestampLocal: (time) => host('formatTimestampLocal', apply(dateGetTime, time, [])),
    print: function () {
      say('', arguments);
    },
    alert: function () {
      say('alert: ', arguments);
    },
    require: (name) => {
      if (typeof name === 'string' && (name === 'author' || name === 'path' || name === 'process')) {
        return modules[name];
      }
      throw new ErrorCtor(
        'require(' + (typeof name === 'string' ? stringify(name) : show(name)) + ') is not available in job-type scripts; only "author", "path" and "process" are',
      );
    },
  };
  for (const name in globals) {
    defineProperty(global, name, { value: globals[name], writable: true, configurable: true, enumerable: false });
  }

  // Where in the script an Error was thrown, e.g. "my_job.js:12:5", for the submitter.
  function location(error) {
    const stack = typeof error.stack === 'string' ? error.stack.split('\n') : [];
    for (let i = 1; i < stack.length; i++) {
      const match = /\(?([^()\s]+:\d+:\d+)\)?\s*$/.exec(stack[i]);
      if (match && match[1].slice(0, 5) !== 'farm:') return match[1];
    }
    return undefined;
  }
  function failure(error) {
    let message;
    try {
      if (error !== null && typeof error === 'object' && typeof error.message === 'string') {
        const where = location(error);
        const name = typeof error.name === 'string' && error.name !== 'Error' ? error.name + ': ' : '';
        message = name + error.message + (where === undefined ? '' : ' (at ' + where + ')');
      } else {
        message = StringCtor(error);
      }
    } catch (inner) {
      message = 'the script threw a value that cannot be shown';
    }
    return stringify({ ok: false, error: message });
  }

  function describeError() {
    const error = slot.error;
    slot.error = undefined;
    return failure(error);
  }

  function describe() {
    try {
      const definition = typeof JOB_TYPE === 'undefined' ? undefined : JOB_TYPE;
      const hasCompile = typeof compileJob === 'function';
      return stringify({ ok: true, definition: definition === undefined ? null : definition, hasCompile: hasCompile });
    } catch (error) {
      return failure(error);
    }
  }

  function compile() {
    try {
      const tasks = [];
      let addedCount = 0;
      const job = {
        id: input.job.id,
        jobID: input.job.id,
        name: input.job.name,
        jobType: input.job.jobType,
        priority: input.job.priority,
        status: 'under-construction',
        created: new DateCtor(input.job.createdMs),
        settings: input.job.settings,
        metadata: input.job.metadata,
        tasks: tasks,
        addTask: function (task) {
          if (!isTask(task)) {
            throw new TypeErrorCtor('job.addTask needs a task made with author.Task');
          }
          if (positionOf(task) !== -1) {
            throw new ErrorCtor('job.addTask: task "' + task.name + '" was already added to the job');
          }
          if (tasks.length >= input.maxTasks) {
            throw new ErrorCtor('a job may have at most ' + input.maxTasks + ' tasks');
          }
          setPosition(task, tasks.length);
          addedCount++;
          tasks.push(task);
        },
      };
      if (typeof compileJob !== 'function') throw new ErrorCtor('the script defines no compileJob(job) function');
      compileJob(job);

      // Scripts may also push to job.tasks directly, so indices come from the final array.
      // Usually job.tasks holds exactly what addTask recorded, and the recorded positions hold;
      // otherwise a Map of the final positions is made.
      let positions;
      for (let i = 0; i < tasks.length && positions === undefined; i++) {
        if (!isTask(tasks[i]) || positionOf(tasks[i]) !== i) positions = new MapCtor();
      }
      if (positions === undefined && addedCount !== tasks.length) positions = new MapCtor();
      const out = [];
      for (let i = 0; i < tasks.length && positions !== undefined; i++) {
        const task = tasks[i];
        if (!isTask(task)) {
          throw new TypeErrorCtor('job.tasks[' + i + '] is not a task made with author.Task');
        }
        if (apply(mapHas, positions, [task])) {
          throw new ErrorCtor('job.addTask: task "' + task.name + '" was already added to the job');
        }
        apply(mapSet, positions, [task, i]);
      }
      // Dependencies travel as [taskIndex, [dependencyIndex, ...]] pairs; tasks are written as
      // they are (their own enumerable fields), which keeps the text small for 100,000 tasks.
      for (let i = 0; i < tasks.length; i++) {
        const task = tasks[i];
        if (!apply(hasOwn, task, ['dependencies'])) continue;
        const dependencies = isArray(task.dependencies) ? task.dependencies : [];
        if (dependencies.length === 0) continue;
        const dependsOn = [];
        for (let d = 0; d < dependencies.length; d++) {
          const dependency = dependencies[d];
          const position =
            positions !== undefined
              ? apply(mapGet, positions, [dependency])
              : isTask(dependency) && positionOf(dependency) !== -1
                ? positionOf(dependency)
                : undefined;
          dependsOn.push(
            position !== undefined
              ? position
              : { missing: dependency !== null && typeof dependency === 'object' ? StringCtor(dependency.name) : show(dependency) },
          );
        }
        out.push([i, dependsOn]);
      }
      return stringify({ ok: true, settings: job.settings, tasks: tasks, dependencies: out });
    } catch (error) {
      return failure(error);
    }
  }

  defineProperty(global, '__farmRuntime__', {
    value: freeze({ describe: describe, compile: compile, describeError: describeError }),
    writable: false,
    configurable: false,
    enumerable: false,
  });
  return slot;
})(globalThis);
`;
