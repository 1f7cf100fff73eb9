'use strict';
// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by package, so the
// report can say where the manager's time goes.
const fs = require('node:fs');
const path = require('node:path');

function where(url) {
  if (!url) return '(native/V8)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const pkg = /packages\/([^/]+)\//.exec(url);
  if (pkg) return `@farm/${pkg[1]}`;
  return url;
}

function shortUrl(url) {
  const i = url.indexOf('packages/');
  if (i >= 0) return url.slice(i);
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  return url.replace(/^file:\/\//, '');
}

/**
 * Top functions by self time and self time per package, in % of all samples. `window` keeps only
 * the samples between `fromEndMs` and `toEndMs` before the profile's end (a scenario knows when
 * its quiet window was, counted back from the manager's exit, but not in the profile's clock).
 */
function summarizeProfile(file, top = 25, window = null) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  let total = 0;
  const from = window ? profile.endTime - window.fromEndMs * 1000 : -Infinity;
  const to = window ? profile.endTime - window.toEndMs * 1000 : Infinity;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] || 0;
    at += dt;
    if (at < from || at > to) continue;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) || 0) + dt);
    total += dt;
  }
  const byFunction = new Map();
  const byPackage = new Map();
  // Inclusive time: a sample counts once for every distinct function on its stack.
  const inclusive = new Map();
  const parentOf = new Map();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  const keyOf = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    return `${functionName || '(anonymous)'} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`.trim();
  };
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    const { functionName, url } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const key = keyOf(node);
    byFunction.set(key, (byFunction.get(key) || 0) + us);
    const onStack = new Set();
    for (let nodeId = id; nodeId !== undefined; nodeId = parentOf.get(nodeId))
      onStack.add(keyOf(byId.get(nodeId)));
    for (const name of onStack) inclusive.set(name, (inclusive.get(name) || 0) + us);
    const pkg = ['(garbage collector)', '(program)'].includes(functionName)
      ? functionName
      : where(url);
    byPackage.set(pkg, (byPackage.get(pkg) || 0) + us);
  }
  const busy = total - idleUs;
  const pct = (us) => Math.round((us / Math.max(busy, 1)) * 1000) / 10;
  const sorted = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, selfPercentOfBusy: pct(us), selfMs: Math.round(us / 1000) }));
  return {
    file: path.basename(file),
    profiledSeconds: Math.round(total / 1e5) / 10,
    busySeconds: Math.round(busy / 1e5) / 10,
    byPackage: sorted(byPackage, 15),
    topFunctions: sorted(byFunction, top),
    topFunctionsInclusive: [...inclusive.entries()]
      .filter(([name]) => name !== '(root)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, percentOfBusy: pct(us), ms: Math.round(us / 1000) })),
  };
}

/** The newest .cpuprofile in `dir`, summarised; null when there is none. */
function summarizeNewestProfile(dir, top, window = null) {
  if (!dir || !fs.existsSync(dir)) return null;
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return files.length ? summarizeProfile(files[0], top, window) : null;
}

module.exports = { summarizeProfile, summarizeNewestProfile };
