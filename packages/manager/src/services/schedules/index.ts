export * from './schedule-timing';
export * from './schedules';
export * from './fire-due-schedules';
