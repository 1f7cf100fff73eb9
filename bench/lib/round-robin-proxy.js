'use strict';
// A small TCP load balancer for the replicas scenario: each new connection goes to the next
// manager in turn and stays there (HTTP keep-alive and websockets are per connection, which is
// how a real load balancer without session affinity behaves too).
const net = require('node:net');

/**
 * Starts a round-robin proxy on a free port in front of `targets` (`http://host:port` URLs);
 * resolves `{ url, connectionsPerTarget, close() }`.
 */
function startRoundRobinProxy(targets) {
  const backends = targets.map((target) => {
    const { hostname, port } = new URL(target);
    return { host: hostname, port: Number(port), connections: 0 };
  });
  let next = 0;
  const sockets = new Set();
  const server = net.createServer((client) => {
    const backend = backends[next];
    next = (next + 1) % backends.length;
    backend.connections++;
    const upstream = net.connect({ host: backend.host, port: backend.port });
    sockets.add(client);
    sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        connectionsPerTarget: () => backends.map((b) => b.connections),
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

module.exports = { startRoundRobinProxy };
