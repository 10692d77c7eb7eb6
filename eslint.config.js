// Lint configuration: typescript-eslint's type-aware recommended rules, plus the project's rules
// (no `any` in src/, no wall-clock or unseeded randomness in model code).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/build/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Determinism: model code takes a seeded PRNG; the wall clock and Math.random belong to cli/ only.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Model code must be deterministic: take time from the model.' },
        { object: 'Math', property: 'random', message: 'Model code must take a seeded PRNG.' },
      ],
    },
  },
  {
    // Layering: arch knows nothing of the OS.
    files: ['src/arch/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/kernel/**', '**/policies/**', '**/cli/**', '**/report/**', '**/sim/**', '**/check/**', '**/cost/**', '**/workload/**'] }],
    },
  },
  {
    files: ['src/policies/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/cli/**', '**/report/**', '**/sim/**', '**/check/**', '**/cost/**', '**/workload/**'] }],
    },
  },
  {
    files: ['src/sim/**/*.ts', 'src/report/**/*.ts', 'src/check/**/*.ts', 'src/cost/**/*.ts', 'src/workload/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/cli/**'] }],
    },
  },
  {
    files: ['src/kernel/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/policies/**', '**/cli/**', '**/report/**', '**/sim/**', '**/check/**', '**/cost/**', '**/workload/**'] }],
    },
  },
);
