'use strict';
// Reads CPU time and memory of processes from /proc (Linux), so the load generator can measure
// the manager and Postgres without sharing their accounting.
const fs = require('node:fs');
const os = require('node:os');
const { execFileSync } = require('node:child_process');

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch {
  // 100 is the value on every Linux this runs on.
}

/** utime + stime of a process in seconds, or null when it is gone. */
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return null;
  }
}

/** VmRSS and VmHWM (peak) of a process in MB, or nulls when it is gone. */
function memoryMb(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const read = (key) => {
      const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
      return match ? Math.round(Number(match[1]) / 102.4) / 10 : null;
    };
    return { rssMb: read('VmRSS'), peakRssMb: read('VmHWM') };
  } catch {
    return { rssMb: null, peakRssMb: null };
  }
}

/** CPU seconds of every process whose command name is `name` (e.g. all postgres backends), by pid. */
function cpuSecondsByName(name) {
  const byPid = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (comm !== name) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byPid.set(entry, (Number(fields[11]) + Number(fields[12])) / clockTicks);
    } catch {
      // The process ended while we read it.
    }
  }
  return byPid;
}

// CPU used between two readings: processes that started meanwhile count whole, those that ended
// meanwhile are lost (an undercount, never negative).
function cpuDelta(before, after) {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

/** Machine-wide busy and total jiffies (from /proc/stat), to tell how saturated the box was. */
function machineCpu() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = values[3] + (values[4] || 0);
  const total = values.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/**
 * Starts measuring: returns a function that gives CPU % (of one core) of `pid`, of all postgres
 * processes and of the whole machine (of all cores) since the start.
 */
function startCpuWindow(pid, extraPids = {}) {
  const startedAt = process.hrtime.bigint();
  const manager = cpuSeconds(pid);
  const postgres = cpuSecondsByName('postgres');
  const machine = machineCpu();
  const extras = Object.fromEntries(Object.entries(extraPids).map(([k, p]) => [k, cpuSeconds(p)]));
  return () => {
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    const pct = (a, b) => (a === null || b === null ? null : round1(((b - a) / seconds) * 100));
    const machineNow = machineCpu();
    const result = {
      seconds: round1(seconds),
      managerCpuPercentOfOneCore: pct(manager, cpuSeconds(pid)),
      postgresCpuPercentOfOneCore: round1(
        (cpuDelta(postgres, cpuSecondsByName('postgres')) / seconds) * 100,
      ),
      machineBusyPercentOfAllCores: round1(
        ((machineNow.busy - machine.busy) / Math.max(1, machineNow.total - machine.total)) * 100,
      ),
    };
    for (const [k, p] of Object.entries(extraPids)) {
      result[`${k}CpuPercentOfOneCore`] = pct(extras[k], cpuSeconds(p));
    }
    return result;
  };
}

function round1(n) {
  return Math.round(n * 10) / 10;
}

/** The machine as the JSON reports it. */
function machineInfo() {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    loadAverage: os.loadavg().map((n) => Math.round(n * 100) / 100),
  };
}

module.exports = {
  clockTicks,
  cpuSeconds,
  memoryMb,
  cpuSecondsByName,
  machineCpu,
  startCpuWindow,
  machineInfo,
  round1,
};
