import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { candidateUrls } from '../src/discovery';

// mDNS must not leave the machine during tests: the browsing and the advertising both happen in
// a fresh network namespace with only a loopback interface (DESIGN.md, Testing).
const canUnshare = spawnSync('unshare', ['-n', 'true']).status === 0;
const support = path.join(__dirname, 'support');

function runInNamespace(args: string[]): { url: string; port: number; ms: number } {
  const script = [
    'ip link set lo up multicast on',
    'ip route add 224.0.0.0/4 dev lo',
    `exec node -r ${JSON.stringify(path.join(support, 'ts-register.js'))} ${JSON.stringify(path.join(support, 'discovery-child.ts'))} ${args.join(' ')}`,
  ].join(' && ');
  const result = spawnSync('unshare', ['-n', 'sh', '-c', script], {
    encoding: 'utf8',
    timeout: 40_000,
  });
  if (result.status !== 0) throw new Error(`discovery child failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as {
    url: string;
    port: number;
    ms: number;
  };
}

describe('manager discovery (mDNS)', () => {
  if (!canUnshare) {
    it.skip('needs `unshare -n` (root or user namespaces) to keep multicast off the network', () =>
      undefined);
    console.log('skipping the mDNS discovery tests: `unshare -n` is not permitted here');
    return;
  }

  it('finds the advertised manager and ignores a service that is not one', () => {
    const found = runInNamespace([]);
    expect(found.url).toBe(`http://127.0.0.1:${found.port}`);
  }, 45_000);

  it('keeps looking until a manager appears', () => {
    const found = runInNamespace(['--late']);
    expect(found.url).toBe(`http://127.0.0.1:${found.port}`);
    expect(found.ms).toBeGreaterThan(1000);
  }, 45_000);
});

describe('candidateUrls', () => {
  it('tries IPv4 addresses first and brackets IPv6 ones', () => {
    expect(
      candidateUrls({
        addresses: ['fe80::1', '10.0.0.5'],
        host: 'farm.local',
        port: 8080,
        referer: undefined,
      }),
    ).toEqual(['http://10.0.0.5:8080', 'http://farm.local:8080', 'http://[fe80::1]:8080']);
  });
});
