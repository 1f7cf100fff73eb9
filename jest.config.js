// One jest project per package, run on TypeScript sources through ts-jest (transpile-only: the
// tsconfig sets isolatedModules). Type-checking is `npm run typecheck`, not jest's job.
const packages = ['core', 'manager', 'worker', 'submitter-cli', 'web'];

const moduleNameMapper = {
  '^@farm/(core|manager|worker|submitter-cli)$': '<rootDir>/packages/$1/src/index.ts',
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30_000,
  maxWorkers: 2,
  projects: packages.map((name) => ({
    displayName: name,
    rootDir: __dirname,
    testEnvironment: 'node',
    roots: [`<rootDir>/packages/${name}`],
    testMatch: ['**/src/**/*.test.ts', '**/src/**/*.test.tsx', '**/test/**/*.test.ts'],
    testPathIgnorePatterns: ['/node_modules/', '/dist/'],
    moduleNameMapper,
    transform: {
      '^.+\\.tsx?$': [
        'ts-jest',
        {
          tsconfig:
            name === 'web'
              ? '<rootDir>/packages/web/tsconfig.json'
              : '<rootDir>/tsconfig.test.json',
        },
      ],
    },
  })),
};
