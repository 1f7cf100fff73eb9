// Runs inside its own network namespace (see discovery.test.ts): advertises a manager the way the
// real one does, then lets the worker's discovery find it, and prints the URL it found.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Bonjour } from 'bonjour-service';
import { MDNS_SERVICE_PROTOCOL, MDNS_SERVICE_TYPE } from '@farm/core';
import { discoverManager } from '../../src/discovery';

async function run(): Promise<void> {
  const server = http.createServer((req, res) => {
    if (req.url === '/api/v1/version') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name: 'ns-manager', version: '9.9.9', apiVersion: '1.0.0' }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
  const port = (server.address() as AddressInfo).port;
  // Something else on the LAN that is not a Farm manager must not be picked.
  const decoy = http.createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((r) => decoy.listen(0, '0.0.0.0', r));
  const bonjour = new Bonjour();
  const advertise = (): void => {
    bonjour.publish({
      name: 'farm-test',
      type: MDNS_SERVICE_TYPE,
      protocol: MDNS_SERVICE_PROTOCOL,
      port,
      txt: { path: '/api/v1', version: '9.9.9' },
    });
  };
  bonjour.publish({
    name: 'decoy',
    type: MDNS_SERVICE_TYPE,
    protocol: MDNS_SERVICE_PROTOCOL,
    port: (decoy.address() as AddressInfo).port,
  });
  // The manager appears only after the worker started looking: the first round finds nothing.
  const late = process.argv.includes('--late');
  if (!late) advertise();
  else setTimeout(advertise, 1500);
  const started = Date.now();
  const url = await discoverManager({ browseMs: 800, signal: AbortSignal.timeout(20_000) });
  process.stdout.write(JSON.stringify({ url, port, ms: Date.now() - started }) + '\n');
  bonjour.unpublishAll(() => bonjour.destroy());
  server.close();
  decoy.close();
  setTimeout(() => process.exit(0), 200);
}

run().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
