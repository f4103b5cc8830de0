// `jobherald install-url NAME [-n NS]`: print a SlackIntegration's one-time install link (status.install.url),
// for the person who will approve the app in Slack. The operator issues it when the integration has spec.oauth
// and the operator runs with --oauth-public-url.
import { parseArgs } from 'node:util';
import { isNotFound, KubeConnection } from '../kube/connection.ts';
import type { SlackIntegration } from '../api/types.ts';
import { processIo, type Io } from './validate.ts';

const USAGE = `Usage: jobherald install-url NAME [--namespace NS] [--kubeconfig FILE]

Print the one-time link that installs the Slack app for SlackIntegration NAME (its status.install.url).
  -n, --namespace NS   the integration's namespace (default: jobherald-system)
  --kubeconfig FILE    kubeconfig file (default: in-cluster, else $KUBECONFIG or ~/.kube/config)
`;

export async function run(args: string[], io: Io = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        namespace: { type: 'string', short: 'n', default: 'jobherald-system' },
        kubeconfig: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    io.err(`jobherald install-url: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(USAGE);
    return 0;
  }
  const [name, ...rest] = parsed.positionals;
  if (name === undefined || rest.length > 0) {
    io.err(`jobherald install-url: name one SlackIntegration\n\n${USAGE}`);
    return 2;
  }
  const namespace = parsed.values.namespace;
  let object: SlackIntegration;
  try {
    const connection = KubeConnection.load({ kubeconfig: parsed.values.kubeconfig });
    object = await connection.get<SlackIntegration>(
      `/apis/jobherald.dev/v1alpha1/namespaces/${namespace}/slackintegrations/${name}`,
    );
  } catch (error) {
    io.err(
      isNotFound(error)
        ? `jobherald install-url: SlackIntegration ${namespace}/${name} not found\n`
        : `jobherald install-url: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
  const install = object.status?.install;
  if (install?.url === undefined) {
    io.err(
      object.spec.oauth === undefined
        ? `jobherald install-url: ${namespace}/${name} has no spec.oauth, so it has no install link\n`
        : `jobherald install-url: ${namespace}/${name} has no install link yet: the operator issues one when it runs with --oauth-public-url (chart value oauth.publicURL)\n`,
    );
    return 1;
  }
  io.out(`${install.url}\n`);
  if (install.expiresAt !== undefined) io.err(`valid until ${install.expiresAt}, once\n`);
  return 0;
}
