export * from './run-duties';
export * from './duty-lock';
export * from './task-timeouts';
export * from './worker-timeouts';
export * from './sleep-schedules';
export * from './repair';
export * from './clean-up';
export * from './format-duration';
