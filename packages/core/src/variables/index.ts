export * from './variable-config';
export * from './resolve-variables';
export * from './replace-two-way-variables';
export * from './expand-variables';
