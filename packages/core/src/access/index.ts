export * from './project-roles';
