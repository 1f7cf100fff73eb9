'use strict';
// The parent's handle on the forked load generator (bench/load/load-child.js).
const { fork } = require('node:child_process');
const path = require('node:path');
const { log } = require('./log');

function startLoadGenerator(label = 'load') {
  const child = fork(path.join(__dirname, '..', 'load', 'load-child.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: ['--max-old-space-size=2048'],
  });
  const waiters = [];
  child.on('message', (message) => {
    if (message.type === 'progress') {
      log(`${label}: ${message.completed} lifecycles after ${message.seconds} s`);
      return;
    }
    const waiter = waiters.shift();
    if (!waiter) return;
    if (message.type === 'error') waiter.reject(new Error(`load generator: ${message.message}`));
    else waiter.resolve(message);
  });
  child.on('exit', (code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`load generator exited (${code})`));
  });
  function ask(message) {
    return new Promise((resolve, reject) => {
      waiters.push({ resolve, reject });
      child.send(message);
    });
  }
  return {
    pid: child.pid,
    setup: (options) => ask({ cmd: 'setup', ...options }),
    dispatch: (options) => ask({ cmd: 'dispatch', ...options }),
    heartbeats: () => ask({ cmd: 'heartbeats' }),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ cmd: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

module.exports = { startLoadGenerator };
