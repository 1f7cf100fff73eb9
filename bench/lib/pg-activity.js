'use strict';
// Samples pg_stat_activity of the bench database while a scenario runs: what the manager's
// connections are doing (running, waiting on a lock, idle in transaction) and which statements.
// This is how the report tells "the database is slow" from "the manager waits on a row lock".
const { Client } = require('pg');
const { BASE_URL } = require('./postgres');

function startActivitySampler(databaseName, intervalMs = 100) {
  const client = new Client({ connectionString: `${BASE_URL}/postgres` });
  const states = new Map();
  const statements = new Map();
  let samples = 0;
  let busy = 0;
  let timer = null;
  let stopped = false;
  const ready = client.connect().then(() => {
    const tick = async () => {
      if (stopped) return;
      try {
        const { rows } = await client.query(
          `select state, wait_event_type, wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) as query
             from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
          [databaseName],
        );
        samples++;
        for (const r of rows) {
          if (r.state === 'idle') continue;
          busy++;
          const state = `${r.state}${r.wait_event_type ? ` / ${r.wait_event_type}:${r.wait_event}` : ''}`;
          states.set(state, (states.get(state) || 0) + 1);
          const key = `${r.wait_event_type === 'Lock' ? '[lock wait] ' : ''}${r.query}`;
          statements.set(key, (statements.get(key) || 0) + 1);
        }
      } catch {
        // The database went away at the end of the run.
      }
      if (!stopped) timer = setTimeout(tick, intervalMs);
    };
    tick();
  });
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await ready.catch(() => {});
      await client.end().catch(() => {});
      const top = (map, n) =>
        [...map.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, n)
          .map(([name, count]) => ({
            name,
            averageConnections: Math.round((count / Math.max(samples, 1)) * 100) / 100,
          }));
      return {
        samples,
        intervalMs,
        averageBusyConnections: Math.round((busy / Math.max(samples, 1)) * 100) / 100,
        byState: top(states, 10),
        topStatements: top(statements, 12),
      };
    },
  };
}

module.exports = { startActivitySampler };
