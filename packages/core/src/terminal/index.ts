export * from './prompt-hidden';
