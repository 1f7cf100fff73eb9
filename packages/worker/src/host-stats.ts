import { statfs } from 'node:fs/promises';
import os from 'node:os';
import type { HostStats } from './protocol';

/** Returns the machine's current load each time it is called. */
export type HostStatsSampler = () => Promise<HostStats>;

interface CpuTimes {
  idle: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

/**
 * Creates a sampler of CPU use (since the previous sample; since creation for the first one),
 * memory, the one-minute load and the free space of `workDir`'s file system.
 */
export function createHostStatsSampler(workDir: string): HostStatsSampler {
  let previous = cpuTimes();
  return async () => {
    const now = cpuTimes();
    const total = now.total - previous.total;
    const idle = now.idle - previous.idle;
    previous = now;
    const cpuPercent = total > 0 ? clamp(((total - idle) / total) * 100, 0, 100) : 0;
    const memoryTotalBytes = os.totalmem();
    const memoryUsedBytes = Math.max(0, memoryTotalBytes - os.freemem());
    let diskFreeBytes = 0;
    try {
      const fsStats = await statfs(workDir);
      diskFreeBytes = Number(fsStats.bavail) * Number(fsStats.bsize);
    } catch {
      // The work folder may not exist yet; 0 says "unknown" without failing the heartbeat.
    }
    return {
      cpuPercent: Math.round(cpuPercent * 10) / 10,
      memoryUsedBytes,
      memoryTotalBytes,
      load1: Math.max(0, os.loadavg()[0] ?? 0),
      diskFreeBytes: Math.max(0, Math.floor(diskFreeBytes)),
      at: new Date().toISOString(),
    };
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
