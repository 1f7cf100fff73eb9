'use strict';

/** p50/p95/p99/max (ms, one decimal) of a list of latencies. */
function summarize(values) {
  if (!values || values.length === 0) return { count: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (p) => round2(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]);
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: round2(sorted[sorted.length - 1]),
    mean: round2(sum / sorted.length),
  };
}

function round2(n) {
  return Math.round(n * 100) / 100;
}

/**
 * A target line of the JSON: the figure, the target, whether it is met and the ratio to it, and,
 * when it is not met and the scenario can tell, `why` (what limited the run).
 */
function target(name, value, goal, direction, why = null) {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return { name, value: null, target: goal, direction, met: false, ratio: null };
  }
  const met = direction === 'min' ? value >= goal : value <= goal;
  // ratio > 1 always means "better than the target" so the table reads the same way (capped at 100).
  const ratio = direction === 'min' ? value / goal : goal / Math.max(value, goal / 100);
  const line = { name, value, target: goal, direction, met, ratio: round2(ratio) };
  if (!met && why) line.why = why;
  return line;
}

/**
 * What limited a run, read from its CPU figures (`startCpuWindow`): the process at its core's
 * limit, the machine's cores, or neither (then the time went to waiting).
 */
function limitOf(cpu) {
  if (!cpu) return null;
  const m = cpu.managerCpuPercentOfOneCore;
  const p = cpu.postgresCpuPercentOfOneCore;
  const b = cpu.machineBusyPercentOfAllCores;
  const l = cpu.loadGeneratorCpuPercentOfOneCore;
  const each = `manager ${m} % of a core, Postgres ${p} %${l === undefined ? '' : `, load generator ${l} %`}, machine ${b} % busy`;
  if (m >= 85) return `the manager's one core is saturated (${each})`;
  if (p >= 85) return `Postgres is saturated (${each})`;
  if (b >= 90) return `the machine's cores are busy (${each})`;
  return `no process is saturated (${each}): the time goes to waiting (batches, locks, round trips)`;
}

module.exports = { summarize, target, round2, limitOf };
