export * from './mdns-service';
