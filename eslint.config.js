// Lint configuration: typescript-eslint's recommended rules, without type information so it stays fast,
// and Outpost's guardrails (lint/rules.js, declared in lint/architecture.js; docs/architecture.md says why).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { outpostRules } from './lint/rules.js';

export default tseslint.config(
  { ignores: ['dist/**', 'dist-package/**', 'node_modules/**', 'bench/results/**', '**/*.d.ts', 'native/build/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // The guardrails, on src/ only (tests and benchmarks may reach into any component they exercise).
    files: ['src/**/*.ts'],
    plugins: { outpost: outpostRules },
    rules: {
      'outpost/proxy-imports-core-and-api': 'error',
      'outpost/control-plane-not-proxy': 'error',
      'outpost/apiserver-store-owner': 'error',
      'outpost/process-env-in-config-modules': 'error',
      'outpost/node-private-modules': 'error',
    },
  },
);
