import { Bonjour } from 'bonjour-service';
import { MDNS_SERVICE_PROTOCOL, MDNS_SERVICE_TYPE, type ManagerTxtRecord } from '@farm/core';

/** A running mDNS advertisement; `stop()` sends the goodbye packets. */
export interface ManagerAdvertisement {
  stop(): Promise<void>;
}

/**
 * Announces the manager on the LAN so workers and the CLI find it without a URL. Off in tests
 * (multicast must not leave the machine), on by default for `npm start`.
 */
export function advertiseManager(options: {
  name: string;
  port: number;
  version: string;
}): ManagerAdvertisement {
  const bonjour = new Bonjour();
  const txt: ManagerTxtRecord = { path: '/api/v1', version: options.version };
  const service = bonjour.publish({
    name: options.name,
    type: MDNS_SERVICE_TYPE,
    protocol: MDNS_SERVICE_PROTOCOL,
    port: options.port,
    txt,
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        const stopService = service.stop as ((done: () => void) => void) | undefined;
        if (stopService) stopService.call(service, () => bonjour.destroy(() => resolve()));
        else bonjour.destroy(() => resolve());
      }),
  };
}
