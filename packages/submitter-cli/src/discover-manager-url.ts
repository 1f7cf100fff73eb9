import { Bonjour, type Service } from 'bonjour-service';
import { MDNS_SERVICE_PROTOCOL, MDNS_SERVICE_TYPE } from '@farm/core';

/**
 * Browses the LAN for a manager (`_farm-manager._tcp`) for up to `timeoutMs` and returns the URL
 * of the first one that answers `GET /api/v1/version`, or undefined when none does.
 */
export async function discoverManagerUrl(timeoutMs: number): Promise<string | undefined> {
  const bonjour = new Bonjour(undefined, () => undefined);
  try {
    const services: Service[] = [];
    const browser = bonjour.find(
      { type: MDNS_SERVICE_TYPE, protocol: MDNS_SERVICE_PROTOCOL },
      (service) => services.push(service),
    );
    await new Promise((resolve) => setTimeout(resolve, timeoutMs));
    browser.stop();
    const urls = services.flatMap(candidateUrls);
    if (urls.length === 0) return undefined;
    return await Promise.any(urls.map((url) => answers(url).then(() => url))).catch(
      () => undefined,
    );
  } finally {
    bonjour.destroy();
  }
}

function candidateUrls(service: Service): string[] {
  const hosts = [...new Set([...(service.addresses ?? []), service.host].filter(Boolean))];
  // IPv4 first: link-local IPv6 addresses need a zone id that URLs cannot carry well.
  hosts.sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')));
  return hosts.map((h) => `http://${h.includes(':') ? `[${h}]` : h}:${service.port}`);
}

async function answers(url: string): Promise<void> {
  const response = await fetch(`${url}/api/v1/version`, { signal: AbortSignal.timeout(2000) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
}
