/**
 * How a manager announces itself on the LAN with mDNS/DNS-SD, shared by the manager (which
 * advertises) and the worker and CLI (which browse): `_farm-manager._tcp`, with a TXT record
 * naming the API path and the manager's version.
 */
export const MDNS_SERVICE_TYPE = 'farm-manager';
export const MDNS_SERVICE_PROTOCOL = 'tcp';

/** The TXT record a manager publishes. */
export interface ManagerTxtRecord {
  /** The API root path, `/api/v1`. */
  path: string;
  /** The manager's version. */
  version: string;
}
