'use strict';
// A lean JSON client on node:http with keep-alive, so the load generator spends little CPU per
// request (fetch costs several times more per call).
const http = require('node:http');

function createHttpClient(baseUrl, { maxSockets = 256 } = {}) {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  function request(method, path, options = {}, retried = false) {
    const { token, body, timeoutMs = 120000 } = options;
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(payload);
      }
      const req = http.request(
        { host: url.hostname, port: url.port, method, path, headers, agent, timeout: timeoutMs },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = text;
            }
            resolve({ status: res.statusCode, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', (error) => {
        // The server may close an idle keep-alive socket just as we reuse it; such a request never
        // reached the manager, so sending it again on a fresh socket is safe.
        if (!retried && req.reusedSocket && error.code === 'ECONNRESET') {
          resolve(request(method, path, options, true));
        } else reject(error);
      });
      req.end(payload);
    });
  }
  return { request, close: () => agent.destroy() };
}

/** Throws unless the response has one of the expected statuses. */
function expectStatus(response, expected, what) {
  const list = Array.isArray(expected) ? expected : [expected];
  if (!list.includes(response.status)) {
    const detail =
      typeof response.body === 'object' ? JSON.stringify(response.body) : response.body;
    throw new Error(`${what}: HTTP ${response.status} ${String(detail).slice(0, 300)}`);
  }
  return response.body;
}

module.exports = { createHttpClient, expectStatus };
