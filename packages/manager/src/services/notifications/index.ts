export * from './channel-request';
export * from './create-notifications';
export * from './deliver-notifications';
export * from './deliveries';
export * from './notification-message';
export * from './notification-outbox';
export * from './subscriptions';
