'use strict';
// One simulated worker: registered over HTTP, then speaking the worker protocol over its own
// websocket (what farm-worker does) or over the HTTP worker endpoints.
const WebSocket = require('ws');

const TASK_TYPES = ['misc'];

async function registerWorker(http, secret, name) {
  const r = await http.request('POST', '/api/v1/worker/register', {
    body: { secret, name, platform: 'linux', taskTypes: TASK_TYPES },
  });
  if (r.status !== 201) throw new Error(`register: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const SIGN_ON = (name) => ({ name, platform: 'linux', taskTypes: TASK_TYPES, version: 'bench' });

/** A worker over the websocket: `call(op, body, taskId)` resolves to `{status, body}`. */
function connectSocketWorker(baseUrl, name, token, onPush) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/v1/ws/worker`, {
      headers: { authorization: `Bearer ${token}` },
      perMessageDeflate: false,
    });
    const pending = new Map();
    let nextId = 1;
    let opened = false;
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.type !== undefined) {
        onPush(message);
        return;
      }
      const resolver = pending.get(message.id);
      if (resolver) {
        pending.delete(message.id);
        resolver(message);
      }
    });
    ws.on('error', (error) => {
      if (!opened) reject(error);
    });
    ws.on('close', () => {
      for (const resolver of pending.values()) resolver({ status: 0, body: 'socket closed' });
      pending.clear();
    });
    ws.on('open', () => {
      opened = true;
      resolve({
        name,
        transport: 'ws',
        call(op, body, taskId) {
          const id = nextId++;
          return new Promise((res) => {
            pending.set(id, res);
            ws.send(
              JSON.stringify(taskId === undefined ? { id, op, body } : { id, op, taskId, body }),
            );
          });
        },
        close: () => ws.close(),
        terminate: () => ws.terminate(),
      });
    });
  });
}

const HTTP_PATHS = {
  signOn: () => '/api/v1/worker/sign-on',
  stateChanged: () => '/api/v1/worker/state-changed',
  claim: () => '/api/v1/worker/claim',
  updateTask: (taskId) => `/api/v1/worker/tasks/${taskId}/update`,
  heartbeat: () => '/api/v1/worker/heartbeat',
  signOff: () => '/api/v1/worker/sign-off',
};

/** A worker over the HTTP worker endpoints, with the same `call` as the socket one. */
function httpWorker(http, name, token) {
  return {
    name,
    transport: 'http',
    call(op, body, taskId) {
      return http.request('POST', HTTP_PATHS[op](taskId), { token, body }).catch((error) => ({
        status: 0,
        body: String(error.message),
      }));
    },
    close() {},
    terminate() {},
  };
}

/** Signs on and reports awake, as a daemon does after connecting. */
async function signOn(worker) {
  const r = await worker.call('signOn', SIGN_ON(worker.name));
  if (r.status !== 200) throw new Error(`signOn: ${r.status} ${JSON.stringify(r.body)}`);
  const s = await worker.call('stateChanged', { status: 'awake' });
  if (s.status >= 300) throw new Error(`stateChanged: ${s.status} ${JSON.stringify(s.body)}`);
}

module.exports = { registerWorker, connectSocketWorker, httpWorker, signOn };
