import { describe, expect, it } from 'vitest';
import { applyDefaults, kindOf } from '../../../src/api/defaults.ts';
import { integration, rule } from '../../support/bad-resources.ts';

describe('applyDefaults', () => {
  it('fills the SlackIntegration defaults, nested ones included', () => {
    expect(applyDefaults(integration())).toMatchObject({
      spec: {
        tokenSecretRef: { name: 'slack-bot', key: 'token' },
        allowedNamespaces: { from: 'Same' },
        membership: { join: true, leaveUnused: false },
        suspend: false,
      },
    });
  });

  it('keeps what is set', () => {
    const doc = integration({
      tokenSecretRef: { name: 's', key: 'bot' },
      membership: { join: false },
      suspend: true,
    });
    expect(applyDefaults(doc)).toMatchObject({
      spec: {
        tokenSecretRef: { key: 'bot' },
        membership: { join: false, leaveUnused: false },
        suspend: true,
      },
    });
  });

  it('fills NotificationRule.suspend and leaves integrationRef.namespace to the domain', () => {
    const defaulted = applyDefaults(rule({ integrationRef: { name: 'acme', namespace: undefined } }));
    expect(defaulted).toMatchObject({ spec: { suspend: false, integrationRef: { name: 'acme' } } });
    expect(
      (defaulted as { spec: { integrationRef: { namespace?: string } } }).spec.integrationRef.namespace,
    ).toBeUndefined();
  });

  it('does not modify its input', () => {
    const doc = integration();
    applyDefaults(doc);
    expect(doc).toEqual(integration());
  });

  it('copes with input of any shape', () => {
    expect(applyDefaults(null)).toBeNull();
    expect(applyDefaults({ kind: 'SlackIntegration', spec: [] })).toEqual({
      kind: 'SlackIntegration',
      spec: [],
    });
    expect(applyDefaults({ kind: 'Other', spec: {} })).toEqual({ kind: 'Other', spec: {} });
    expect(kindOf({ kind: 'NotificationRule' })).toBe('NotificationRule');
    expect(kindOf('x')).toBeUndefined();
  });
});
