// Lint: typescript-eslint's type-aware recommended rules, plus the layering rules of docs/adr/0001 and 0010:
// domain/ stays pure; only kube/ and slack/ import the client libraries; delivery/ and reconcilers/ reach
// Kubernetes and each other only through their small interfaces (delivery/pipeline-ports.ts,
// reconcilers/sinks.ts); only the commands (the composition roots) construct a Slack client.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Each layer gets one no-restricted-imports entry with every pattern it must not import: in a flat config a
// later entry for the same rule replaces an earlier one for the files both match, so entries cannot stack.
const CLIENT_NODE = { group: ['@kubernetes/*'], message: 'only src/kube/ talks to @kubernetes/client-node' };
const SLACK_SDK = { group: ['@slack/*'], message: 'only src/slack/ talks to @slack/web-api' };
const SLACK_CLIENT = {
  group: ['**/slack/client.ts'],
  message: 'only the composition root (src/cli/) constructs a Slack client',
};
const PURE = {
  group: ['node:*', 'pino', 'prom-client', '**/kube/**', '**/slack/**', '**/delivery/**'],
  message: 'domain/ is pure: no I/O, no clients, no timers (docs/adr/0001-layout.md)',
};
const VIA_PORTS = {
  group: ['**/reconcilers/**', '**/kube/**', '**/operator/**'],
  message: 'delivery/ sees rules, integrations and Jobs through delivery/pipeline-ports.ts (docs/adr/0010)',
};
const VIA_SINKS = {
  group: ['**/kube/**', '**/operator/**'],
  message: 'reconcilers/ write status and Events through reconcilers/sinks.ts (docs/adr/0010)',
};

const layer = (files, patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } });

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      'charts/',
      'docs/',
      '.jobherald/',
      '.jobherald-bundle-*/',
      'bench/results/',
    ],
  },
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
  layer(['src/domain/**'], [PURE, CLIENT_NODE, SLACK_SDK]),
  layer(['src/delivery/**'], [VIA_PORTS, CLIENT_NODE, SLACK_SDK, SLACK_CLIENT]),
  layer(['src/reconcilers/**'], [VIA_SINKS, CLIENT_NODE, SLACK_SDK, SLACK_CLIENT]),
  layer(
    ['src/api/**', 'src/operator/**', 'src/observability/**', 'src/errors.ts'],
    [CLIENT_NODE, SLACK_SDK, SLACK_CLIENT],
  ),
  layer(['src/kube/**'], [SLACK_SDK, SLACK_CLIENT]),
  layer(['src/slack/**'], [CLIENT_NODE]),
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
