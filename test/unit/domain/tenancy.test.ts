import { describe, expect, it } from 'vitest';
import {
  checkIntegrationAccess,
  checkRuleReach,
  checkRuleTenancy,
  crossNamespaceReach,
  integrationRefOf,
} from '../../../src/domain/tenancy.ts';
import { nrule, slackint } from './rules.ts';

const labels: Record<string, Record<string, string>> = { data: { 'slack-access': 'acme' }, web: {} };
const namespaceLabels = (ns: string) => labels[ns];
const trusted = ['jobherald-system'];

describe('integrationRefOf', () => {
  it("defaults the namespace to the rule's own", () => {
    expect(integrationRefOf(nrule({ integrationRef: { name: 'acme' } }, 'data'))).toEqual({
      namespace: 'data',
      name: 'acme',
    });
    expect(integrationRefOf(nrule())).toEqual({ namespace: 'jobherald-system', name: 'acme' });
  });
});

describe('checkRuleReach', () => {
  it('allows a rule that stays in its namespace, listed explicitly or not', () => {
    expect(checkRuleReach(nrule(), trusted)).toEqual({ allowed: true });
    expect(checkRuleReach(nrule({ selector: { namespaces: ['data'] } }), trusted)).toEqual({ allowed: true });
  });

  it('refuses other namespaces or any namespaceSelector outside trusted namespaces', () => {
    const other = checkRuleReach(nrule({ selector: { namespaces: ['data', 'web'] } }), trusted);
    expect(other).toMatchObject({ allowed: false, reason: 'CrossNamespaceNotAllowed' });
    expect(!other.allowed && other.message).toContain('outside its namespace "data" (web)');
    expect(!other.allowed && other.message).toContain('trusted: jobherald-system');
    const selector = checkRuleReach(
      nrule({ selector: { namespaceSelector: { matchLabels: { a: 'b' } } } }),
      trusted,
    );
    expect(selector).toMatchObject({ allowed: false, reason: 'CrossNamespaceNotAllowed' });
    expect(crossNamespaceReach(nrule({ selector: { namespaceSelector: {} } }))).toEqual([
      'namespaceSelector',
    ]);
  });

  it('allows any reach for a rule in a trusted namespace', () => {
    const rule = nrule({ selector: { namespaces: ['web'], namespaceSelector: {} } }, 'jobherald-system');
    expect(checkRuleReach(rule, new Set(trusted))).toEqual({ allowed: true });
  });

  it('with no trusted namespace at all, refuses every reach', () => {
    const rule = nrule({ selector: { namespaces: ['web'] } }, 'jobherald-system');
    const decision = checkRuleReach(rule, []);
    expect(!decision.allowed && decision.message).toContain('trusted: none');
  });
});

describe('checkIntegrationAccess', () => {
  it('IntegrationNotFound when there is no integration', () => {
    expect(checkIntegrationAccess(nrule(), undefined, namespaceLabels)).toEqual({
      allowed: false,
      reason: 'IntegrationNotFound',
      message: 'SlackIntegration jobherald-system/acme not found',
    });
  });

  it('Same (the default) admits only the integration namespace', () => {
    const integration = slackint();
    expect(checkIntegrationAccess(nrule({}, 'jobherald-system'), integration, namespaceLabels)).toEqual({
      allowed: true,
    });
    const denied = checkIntegrationAccess(nrule({}, 'data'), integration, namespaceLabels);
    expect(denied).toMatchObject({ allowed: false, reason: 'NamespaceNotAllowed' });
    expect(!denied.allowed && denied.message).toBe(
      'SlackIntegration jobherald-system/acme does not admit rules from namespace "data": allowedNamespaces.from is Same, which admits only namespace "jobherald-system"',
    );
    expect(
      checkIntegrationAccess(
        nrule({}, 'data'),
        slackint({ allowedNamespaces: { from: 'Same' } }),
        namespaceLabels,
      ).allowed,
    ).toBe(false);
  });

  it('All admits every namespace', () => {
    expect(
      checkIntegrationAccess(
        nrule({}, 'web'),
        slackint({ allowedNamespaces: { from: 'All' } }),
        namespaceLabels,
      ),
    ).toEqual({
      allowed: true,
    });
  });

  it("Selector matches the rule namespace's labels", () => {
    const integration = slackint({
      allowedNamespaces: { from: 'Selector', selector: { matchLabels: { 'slack-access': 'acme' } } },
    });
    expect(checkIntegrationAccess(nrule({}, 'data'), integration, namespaceLabels)).toEqual({
      allowed: true,
    });
    expect(checkIntegrationAccess(nrule({}, 'web'), integration, namespaceLabels)).toMatchObject({
      allowed: false,
      reason: 'NamespaceNotAllowed',
    });
    const unknown = checkIntegrationAccess(nrule({}, 'ghost'), integration, namespaceLabels);
    expect(!unknown.allowed && unknown.message).toContain('the labels of namespace "ghost" are unknown');
    const noSelector = checkIntegrationAccess(
      nrule({}, 'data'),
      slackint({ allowedNamespaces: { from: 'Selector' } }),
      namespaceLabels,
    );
    expect(noSelector.allowed).toBe(false);
  });
});

describe('checkRuleTenancy', () => {
  it('reports cross-namespace reach before integration access', () => {
    const rule = nrule({ selector: { namespaces: ['web'] } }, 'data');
    expect(checkRuleTenancy(rule, undefined, { trustedNamespaces: trusted, namespaceLabels })).toMatchObject({
      reason: 'CrossNamespaceNotAllowed',
    });
  });

  it('then integration access', () => {
    expect(
      checkRuleTenancy(nrule(), slackint(), { trustedNamespaces: trusted, namespaceLabels }),
    ).toMatchObject({
      reason: 'NamespaceNotAllowed',
    });
    expect(
      checkRuleTenancy(nrule(), slackint({ allowedNamespaces: { from: 'All' } }), {
        trustedNamespaces: trusted,
        namespaceLabels,
      }),
    ).toEqual({ allowed: true });
  });
});
