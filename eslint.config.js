// Flat config: typescript-eslint's type-checked rules on every package, plus the few rules the
// team relies on (see docs/decisions/0002-lint-rules.md).
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const prettier = require('eslint-config-prettier');

module.exports = tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'packages/core/src/generated/**',
      'coverage/**',
      'farm-data/**',
      'bench/results/**',
      'test-artifacts/**',
    ],
  },
  js.configs.recommended,
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        exports: 'writable',
        performance: 'readonly',
        structuredClone: 'readonly',
      },
    },
  },
  {
    files: ['packages/core/job-types/**/*.js', 'packages/core/src/job-types/fixtures/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: {
        author: 'readonly',
        frameChunker: 'readonly',
        frameCount: 'readonly',
        shellSplit: 'readonly',
        formatTimestampLocal: 'readonly',
        print: 'readonly',
        alert: 'readonly',
        path: 'readonly',
        process: 'readonly',
        require: 'readonly',
      },
    },
    rules: { 'no-unused-vars': ['error', { varsIgnorePattern: '^(JOB_TYPE|compileJob)$' }] },
  },
  ...tseslint.configs.recommendedTypeChecked.map((c) => ({
    ...c,
    files: ['packages/**/*.ts', 'packages/**/*.tsx', 'bench/**/*.ts'],
  })),
  {
    files: ['packages/**/*.ts', 'packages/**/*.tsx', 'bench/**/*.ts'],
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.test.json', './packages/web/tsconfig.json'],
        tsconfigRootDir: __dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      curly: ['error', 'multi-line'],
      'no-restricted-imports': [
        'error',
        { patterns: ['@farm/*/src/*', '@farm/*/dist/*', '**/dist/*'] },
      ],
    },
  },
  {
    files: ['**/*.test.ts', '**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // Tests read JSON bodies of many shapes; typing each one would not make them stronger.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  prettier,
);
