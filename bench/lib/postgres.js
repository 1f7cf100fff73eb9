'use strict';
// A fresh Postgres database per run (created and dropped here), and its commit counter.
const { Client } = require('pg');

const BASE_URL = process.env.FARM_BENCH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432';

async function withAdmin(fn) {
  const client = new Client({ connectionString: `${BASE_URL}/postgres` });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database; returns its URL and a `drop()`. */
async function createDatabase(tag) {
  const name = `farm_bench_${tag}_${process.pid}_${Date.now().toString(36)}`.replace(
    /[^a-z0-9_]/g,
    '_',
  );
  await withAdmin((c) => c.query(`create database "${name}"`));
  return {
    name,
    url: `${BASE_URL}/${name}`,
    async drop() {
      await withAdmin((c) => c.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

/** Committed transactions so far in `name` (pg_stat_database; backends flush it lazily). */
async function commits(name) {
  return withAdmin(async (c) => {
    await c.query('select pg_stat_clear_snapshot()');
    const r = await c.query('select xact_commit from pg_stat_database where datname = $1', [name]);
    return r.rows.length ? Number(r.rows[0].xact_commit) : null;
  });
}

/** Runs SQL in the bench database (e.g. to create a second project, which has no API yet). */
async function query(url, sql, params) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function available() {
  try {
    await withAdmin((c) => c.query('select 1'));
    return true;
  } catch {
    return false;
  }
}

module.exports = { createDatabase, commits, query, available, BASE_URL };
