import { Bonjour, type Service } from 'bonjour-service';
import { MDNS_SERVICE_PROTOCOL, MDNS_SERVICE_TYPE } from '@farm/core';
import { backoffDelayMs, delay } from './backoff';
import { fetchManagerVersion } from './manager-http';

export interface DiscoverManagerOptions {
  signal?: AbortSignal;
  /** How long one browse collects answers before the candidates are tried. 3 s by default. */
  browseMs?: number;
  /** Called before each retry, to tell the user what is going on. */
  onRetry?: (attempt: number, delayMs: number) => void;
}

/**
 * Finds a manager on the local network: browses for `_farm-manager._tcp`, turns each answer
 * into candidate URLs (every address it advertised, on its port) and returns the first that
 * answers `GET /api/v1/version` like a Farm manager. Retries with back-off (up to 30 s between
 * rounds) until one answers or `signal` aborts.
 *
 * @throws the abort reason when `signal` aborts first.
 */
export async function discoverManager(options: DiscoverManagerOptions = {}): Promise<string> {
  const { signal } = options;
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    const services = await browse(options.browseMs ?? 3000, signal);
    const candidates = services.flatMap(candidateUrls);
    if (candidates.length > 0) {
      const found = await firstAnswering(candidates, signal);
      if (found !== undefined) return found;
    }
    const wait = backoffDelayMs(attempt, { initialMs: 1000, maxMs: 30_000 });
    options.onRetry?.(attempt + 1, wait);
    await delay(wait, signal);
  }
}

/** The URLs a discovered service may be reached at, IPv4 first. */
export function candidateUrls(
  service: Pick<Service, 'addresses' | 'host' | 'port' | 'referer'>,
): string[] {
  const hosts = [...(service.addresses ?? [])];
  if (service.referer?.address) hosts.push(service.referer.address);
  if (service.host) hosts.push(service.host);
  const unique = [...new Set(hosts)];
  unique.sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')));
  return unique.map((h) => `http://${h.includes(':') ? `[${h}]` : h}:${service.port}`);
}

async function browse(browseMs: number, signal?: AbortSignal): Promise<Service[]> {
  const bonjour = new Bonjour(undefined, () => undefined);
  try {
    const found: Service[] = [];
    const browser = bonjour.find(
      { type: MDNS_SERVICE_TYPE, protocol: MDNS_SERVICE_PROTOCOL },
      (service) => found.push(service),
    );
    await delay(browseMs, signal);
    browser.stop();
    return found;
  } finally {
    bonjour.destroy();
  }
}

async function firstAnswering(urls: string[], signal?: AbortSignal): Promise<string | undefined> {
  const attempts = urls.map((url) =>
    fetchManagerVersion(url, { timeoutMs: 3000, signal }).then(() => url),
  );
  try {
    return await Promise.any(attempts);
  } catch {
    return undefined;
  }
}
