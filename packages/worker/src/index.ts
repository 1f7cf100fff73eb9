export const PACKAGE_NAME = '@farm/worker';
