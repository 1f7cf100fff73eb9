import { readdirSync, readFileSync } from 'node:fs';

/**
 * True while any process of group `pgid` is still running. On Linux it reads `/proc` and ignores
 * zombies: a killed process whose new parent (PID 1 in many containers) does not reap it still
 * answers `kill(-pgid, 0)`, but it is gone for every purpose that matters here.
 */
export function processGroupAlive(pgid: number): boolean {
  if (process.platform === 'linux') {
    const members = linuxGroupMembers(pgid);
    if (members !== undefined) return members.length > 0;
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running (non-zombie) processes of a group, from `/proc`; undefined without `/proc`. */
export function linuxGroupMembers(pgid: number): number[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readProcStat(Number(entry));
    if (info && info.pgrp === pgid && info.state !== 'Z' && info.state !== 'X') {
      members.push(Number(entry));
    }
  }
  return members;
}

/** State letter and process group of one process, or undefined when it no longer exists. */
export function readProcStat(pid: number): { state: string; pgrp: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may contain spaces or parentheses itself.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', pgrp: Number(fields[2]) };
}
