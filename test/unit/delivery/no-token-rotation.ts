// IntegrationRuntime hooks for tests that never refresh a token or write a Secret: any use is a test bug.
import type { IntegrationHooks } from '../../../src/reconcilers/integration-runtime.ts';

export const NO_TOKEN_ROTATION: Pick<IntegrationHooks, 'createSlackAppClient' | 'secrets'> = {
  createSlackAppClient: () => {
    throw new Error('no token is refreshed here');
  },
  secrets: {
    read: () => Promise.reject(new Error('no Secret is read here')),
    write: () => Promise.reject(new Error('no Secret is written here')),
  },
};
