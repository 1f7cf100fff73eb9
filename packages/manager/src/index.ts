export const PACKAGE_NAME = '@farm/manager';
