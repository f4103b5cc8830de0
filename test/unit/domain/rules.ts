// Test helpers: NotificationRules and SlackIntegrations as plain objects.
import type {
  NotificationRule,
  NotificationRuleSpec,
  SlackIntegration,
  SlackIntegrationSpec,
} from '../../../src/api/types.ts';

export function nrule(
  spec: Partial<NotificationRuleSpec> = {},
  namespace = 'data',
  name = 'etl-failures',
): NotificationRule {
  return {
    apiVersion: 'jobherald.dev/v1alpha1',
    kind: 'NotificationRule',
    metadata: { name, namespace },
    spec: {
      integrationRef: { name: 'acme', namespace: 'jobherald-system' },
      events: ['Failed', 'Cancelled'],
      destinations: [{ channel: 'data-alerts' }],
      ...spec,
    },
  };
}

export function slackint(
  spec: Partial<SlackIntegrationSpec> = {},
  namespace = 'jobherald-system',
  name = 'acme',
): SlackIntegration {
  return {
    apiVersion: 'jobherald.dev/v1alpha1',
    kind: 'SlackIntegration',
    metadata: { name, namespace },
    spec: { tokenSecretRef: { name: 'slack-bot' }, ...spec },
  };
}
