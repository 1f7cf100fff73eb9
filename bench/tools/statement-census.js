#!/usr/bin/env node
'use strict';
// Counts the SQL statements the manager runs for each worker request of one task lifecycle
// (claim, start, log, complete). Turns on log_statement = all for a throw-away database and reads
// the Postgres server log, so it needs that log on this machine:
//   FARM_BENCH_POSTGRES_LOG=/var/log/postgresql/postgresql-15-main.log node bench/tools/statement-census.js
const fs = require('node:fs');
const pg = require('../lib/postgres');
const { startManager, sleep } = require('../lib/manager');
const { createHttpClient } = require('../lib/http-client');
const { registerWorker, connectSocketWorker, signOn } = require('../load/sim-worker');

const LOG = process.env.FARM_BENCH_POSTGRES_LOG || '/var/log/postgresql/postgresql-15-main.log';

function readFrom(offset) {
  const size = fs.statSync(LOG).size;
  const buf = Buffer.alloc(size - offset);
  const fd = fs.openSync(LOG, 'r');
  fs.readSync(fd, buf, 0, buf.length, offset);
  fs.closeSync(fd);
  return buf.toString();
}

async function main() {
  if (!fs.existsSync(LOG)) throw new Error(`no Postgres log at ${LOG} (FARM_BENCH_POSTGRES_LOG)`);
  const db = await pg.createDatabase('census');
  await pg.query(
    `${pg.BASE_URL}/postgres`,
    `alter database "${db.name}" set log_statement = 'all'`,
  );
  const manager = await startManager({ databaseUrl: db.url });
  const http = createHttpClient(manager.url);
  try {
    await http.request('POST', '/api/v1/jobs', {
      token: manager.adminToken,
      body: { name: 'census', type: 'shell-frames', settings: { command: 'true', frames: '1-20' } },
    });
    const { token } = await registerWorker(http, manager.registrationSecret, 'census');
    const worker = await connectSocketWorker(manager.url, 'census', token, () => {});
    await signOn(worker);
    await sleep(500);
    // Statements of `db` logged while `fn` ran (and 400 ms after, for work it started).
    const statements = async (fn) => {
      const offset = fs.statSync(LOG).size;
      await fn();
      await sleep(400);
      const lines = [];
      for (const line of readFrom(offset).split('\n')) {
        if (/^\d{4}-\d\d-\d\d /.test(line) || lines.length === 0) lines.push(line);
        else lines[lines.length - 1] += ` ${line.trim()}`;
      }
      return lines
        .filter((l) => l.includes(`@${db.name} `) && /(statement|execute [^:]*):/.test(l))
        .map((l) =>
          l
            .replace(/^.*?(statement|execute [^:]*): /, '')
            .replace(/\s+/g, ' ')
            .slice(0, 120),
        );
    };
    const census = {};
    let task;
    census.claim = await statements(async () => {
      task = (await worker.call('claim', { waitMs: 0 })).body;
    });
    census.start = await statements(() => worker.call('updateTask', { status: 'active' }, task.id));
    census.log = await statements(() =>
      worker.call('updateTask', { log: 'frame done\n', progress: 0.5 }, task.id),
    );
    census.complete = await statements(() =>
      worker.call('updateTask', { status: 'completed' }, task.id),
    );
    worker.close();
    const total = Object.values(census).reduce((n, list) => n + list.length, 0);
    process.stdout.write(`${JSON.stringify({ statementsPerLifecycle: total, census }, null, 2)}\n`);
  } finally {
    http.close();
    await manager.stop();
    await db.drop();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
