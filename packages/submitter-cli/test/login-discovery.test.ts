import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir, removeTempDirs } from './support/test-io';

// mDNS must not leave the machine during tests: the manager advertises and `farm login` browses
// in a fresh network namespace with only a loopback interface (DESIGN.md, Testing).
const canUnshare = spawnSync('unshare', ['-n', 'true']).status === 0;
const managerMain = path.join(__dirname, '..', '..', 'manager', 'dist', 'main.js');
const farmBin = path.join(__dirname, '..', 'bin', 'farm.js');
const skipReason = !canUnshare
  ? '`unshare -n` is not permitted here'
  : !fs.existsSync(managerMain)
    ? `${managerMain} is missing (run npx tsc -b)`
    : undefined;

afterAll(removeTempDirs);

describe('farm login without a URL', () => {
  if (skipReason) {
    console.log(`skipping the login discovery test: ${skipReason}`);
    it.skip(`needs ${skipReason}`, () => undefined);
    return;
  }

  it('finds the manager on the network with mDNS and logs in to it', () => {
    const dir = makeTempDir('farm-cli-discovery-');
    const data = path.join(dir, 'data');
    const config = path.join(dir, 'config');
    const q = (text: string): string => JSON.stringify(text);
    const tokenFile = path.join(data, 'admin-token');
    const script = [
      'ip link set lo up multicast on && ip route add 224.0.0.0/4 dev lo || exit 90',
      `node ${q(managerMain)} --port 0 --data-dir ${q(data)} --log-level error --no-local-worker > ${q(path.join(dir, 'manager.log'))} 2>&1 &`,
      'M=$!',
      // The manager is stopped by its process id however the script ends. Creating its embedded
      // database can take tens of seconds on a loaded machine, hence the long wait for its token.
      "trap 'kill $M 2>/dev/null; wait $M' EXIT",
      `for i in $(seq 1 1200); do [ -s ${q(tokenFile)} ] && break; sleep 0.1; done`,
      `XDG_CONFIG_HOME=${q(config)} node ${q(farmBin)} login --token "$(cat ${q(tokenFile)})"`,
    ].join('\n');
    const result = spawnSync('unshare', ['-n', 'sh', '-c', script], {
      encoding: 'utf8',
      timeout: 170_000,
      env: { ...process.env, NO_COLOR: '1' },
    });
    const log = fs.existsSync(path.join(dir, 'manager.log'))
      ? fs.readFileSync(path.join(dir, 'manager.log'), 'utf8')
      : '';
    if (result.status !== 0) {
      throw new Error(`exit ${result.status}\n${result.stdout}\n${result.stderr}\n${log}`);
    }
    expect(result.stderr).toMatch(
      /^Looking for a Farm manager on the network\.\.\.\nFound http:\/\/\S+:\d+\.\n$/,
    );
    const url = /Found (\S+)\./.exec(result.stderr)![1]!;
    expect(result.stdout).toBe(
      `Logged in to ${url} as admin. The token is kept in ${path.join(config, 'farm', 'config.json')}.\n`,
    );
    expect(JSON.parse(fs.readFileSync(path.join(config, 'farm', 'config.json'), 'utf8')).url).toBe(
      url,
    );
  }, 180_000);
});
