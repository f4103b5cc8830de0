// Creating jobherald's objects for tests, benchmarks and the demo: a token Secret, a SlackIntegration (whose
// Secret is `<name>-token` unless the spec says otherwise) and a NotificationRule.
import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type {
  NotificationRule,
  NotificationRuleSpec,
  SlackIntegration,
  SlackIntegrationSpec,
} from '../api/types.ts';

const GROUP = { group: 'jobherald.dev', version: 'v1alpha1' } as const;

export async function createTokenSecret(core: CoreV1Api, namespace: string, name: string, token: string) {
  await core.createNamespacedSecret({ namespace, body: { metadata: { name }, stringData: { token } } });
}

export async function createIntegration(
  custom: CustomObjectsApi,
  namespace: string,
  name: string,
  spec: Partial<SlackIntegrationSpec> & { apiURL: string },
): Promise<SlackIntegration> {
  return (await custom.createNamespacedCustomObject({
    ...GROUP,
    namespace,
    plural: 'slackintegrations',
    body: {
      apiVersion: 'jobherald.dev/v1alpha1',
      kind: 'SlackIntegration',
      metadata: { name, namespace },
      spec: { tokenSecretRef: { name: `${name}-token` }, ...spec },
    },
  })) as SlackIntegration;
}

export async function createRule(
  custom: CustomObjectsApi,
  namespace: string,
  name: string,
  spec: NotificationRuleSpec,
): Promise<NotificationRule> {
  return (await custom.createNamespacedCustomObject({
    ...GROUP,
    namespace,
    plural: 'notificationrules',
    body: {
      apiVersion: 'jobherald.dev/v1alpha1',
      kind: 'NotificationRule',
      metadata: { name, namespace },
      spec,
    },
  })) as NotificationRule;
}
