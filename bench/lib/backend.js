'use strict';
// A manager on a fresh backend: Postgres (a database created for the run and dropped after) or
// embedded PGlite (a fresh data folder). `finish()` stops everything and returns the commits.
const fs = require('node:fs');
const pg = require('./postgres');
const { startManager } = require('./manager');
const { createHttpClient, expectStatus } = require('./http-client');

// Creating a PGlite database takes 30-40 s on a busy 2-core machine, opening a copy of one
// about 9 s: the first PGlite scenario makes a migrated, empty template that the others copy.
let pgliteTemplate = null;
function pgliteTemplateDir() {
  pgliteTemplate ??= (async () => {
    const manager = await startManager({ label: 'PGlite template' });
    await manager.stop({ keepDataDir: true });
    process.on('exit', () => fs.rmSync(manager.dataDir, { recursive: true, force: true }));
    return manager.dataDir;
  })();
  return pgliteTemplate;
}

async function startBackend(backend, { label, cpuProfDir } = {}) {
  let database = null;
  if (backend === 'postgres') database = await pg.createDatabase(label || 'bench');
  let manager;
  try {
    manager = await startManager({
      databaseUrl: database?.url ?? null,
      cpuProfDir,
      label: `${label} manager`,
      copyDataDirFrom:
        backend === 'pglite' && process.env.FARM_BENCH_PGLITE_TEMPLATE !== '0'
          ? await pgliteTemplateDir()
          : null,
    });
  } catch (error) {
    await database?.drop().catch(() => {});
    throw error;
  }
  const http = createHttpClient(manager.url, { maxSockets: 64 });
  const api = async (method, path, body, expected) => {
    const r = await http.request(method, path, { token: manager.adminToken, body });
    return expected === undefined ? r : expectStatus(r, expected, `${method} ${path}`);
  };
  let commitsAtMark = null;
  let tablesAtMark = null;
  let finished = false;
  return {
    backend,
    manager,
    database,
    api,
    http,
    /** Remembers the commit counter, so `finish()` can report commits since this point. */
    async markCommits() {
      commitsAtMark = database ? await pg.commits(database.name) : null;
      tablesAtMark = database ? await tableStats(database.url) : null;
    },
    async finish() {
      if (finished) return {};
      finished = true;
      http.close();
      await manager.stop();
      let commitsSinceMark = null;
      let tableChangesSinceMark = null;
      if (database && commitsAtMark !== null) {
        // Backends flush their statistics when they exit, so read after the manager stopped.
        commitsSinceMark = (await pg.commits(database.name)) - commitsAtMark;
        const after = await tableStats(database.url).catch(() => null);
        if (after) tableChangesSinceMark = diffTables(tablesAtMark, after);
      }
      await database?.drop().catch(() => {});
      return { commitsSinceMark, tableChangesSinceMark };
    },
  };
}

// Row writes and scans per table, to show which tables each lifecycle writes how often.
async function tableStats(url) {
  const rows = await pg.query(
    url,
    `select relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del, seq_scan, idx_scan
       from pg_stat_user_tables`,
  );
  return Object.fromEntries(rows.map((r) => [r.relname, r]));
}

function diffTables(before, after) {
  const out = {};
  for (const [name, row] of Object.entries(after)) {
    const b = before?.[name] ?? {};
    const d = {};
    for (const key of [
      'n_tup_ins',
      'n_tup_upd',
      'n_tup_hot_upd',
      'n_tup_del',
      'seq_scan',
      'idx_scan',
    ]) {
      const v = Number(row[key] ?? 0) - Number(b[key] ?? 0);
      if (v) d[key.replace('n_tup_', '')] = v;
    }
    if (Object.keys(d).length) out[name] = d;
  }
  return out;
}

/** Submits a shell-frames job running `command` once per frame; returns the job and the time. */
async function submitFramesJob(
  api,
  { name, frames, command = 'true', priority, project, chunkSize = 1 },
) {
  const started = performance.now();
  const body = { name, type: 'shell-frames', settings: { command, frames, chunk_size: chunkSize } };
  if (priority !== undefined) body.priority = priority;
  if (project !== undefined) body.project = project;
  const job = await api('POST', '/api/v1/jobs', body, 201);
  return { job, ms: Math.round(performance.now() - started) };
}

module.exports = { startBackend, submitFramesJob };
