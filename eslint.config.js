// Lint: typescript-eslint's type-aware recommended rules, plus the layering rule of docs/adr/0001:
// domain/ stays pure, and only kube/ and slack/ import the client libraries.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns, message) => ({
  'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group: [group], message })) }],
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'charts/', 'docs/', '.jobherald/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  {
    files: ['src/domain/**'],
    rules: restrict(
      [
        '@kubernetes/*',
        '@slack/*',
        'node:*',
        'pino',
        'prom-client',
        '**/kube/**',
        '**/slack/**',
        '**/delivery/**',
      ],
      'domain/ is pure: no I/O, no clients, no timers (docs/adr/0001-layout.md)',
    ),
  },
  {
    files: ['src/**'],
    ignores: ['src/kube/**', 'src/dev/**', 'src/main.ts', 'src/cli/**'],
    rules: restrict(['@kubernetes/*'], 'only src/kube/ talks to @kubernetes/client-node'),
  },
  {
    files: ['src/**'],
    ignores: ['src/slack/**', 'src/dev/**', 'src/main.ts', 'src/cli/**', 'src/domain/**'],
    rules: restrict(['@slack/*'], 'only src/slack/ talks to @slack/web-api'),
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
