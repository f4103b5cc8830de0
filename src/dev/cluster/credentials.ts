// Throwaway credentials for a local control plane: bearer tokens (token-auth file) and the
// ServiceAccount signing key. The API server generates its own self-signed serving certificate.
import { generateKeyPairSync, randomBytes } from 'node:crypto';

export interface Credentials {
  adminToken: string;
  /** one identity per component so the API server's audit and RBAC see who is who */
  componentTokens: Record<'controllerManager' | 'scheduler' | 'kwok', string>;
  serviceAccountKeyPem: string;
}

const token = (): string => randomBytes(24).toString('base64url');

export function generateCredentials(): Credentials {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    adminToken: token(),
    componentTokens: { controllerManager: token(), scheduler: token(), kwok: token() },
    serviceAccountKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** kube-apiserver --token-auth-file: token,user,uid,"group1,group2". Every component is a cluster admin:
 *  this is a disposable test cluster; the operator's own least-privilege RBAC is tested with a
 *  ServiceAccount token minted by `dev-cluster token`. */
export function tokenAuthFile(credentials: Credentials): string {
  const line = (t: string, user: string): string => `${t},${user},${user},"system:masters"`;
  const c = credentials.componentTokens;
  return (
    [
      line(credentials.adminToken, 'admin'),
      line(c.controllerManager, 'system:kube-controller-manager'),
      line(c.scheduler, 'system:kube-scheduler'),
      line(c.kwok, 'kwok'),
    ].join('\n') + '\n'
  );
}

export function kubeconfigYaml(opts: {
  server: string;
  caFile: string;
  token: string;
  name: string;
}): string {
  // JSON is valid YAML; every kubeconfig reader (client-go, @kubernetes/client-node, kubectl) takes it.
  return (
    JSON.stringify(
      {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: opts.name, cluster: { server: opts.server, 'certificate-authority': opts.caFile } },
        ],
        users: [{ name: `${opts.name}-admin`, user: { token: opts.token } }],
        contexts: [{ name: opts.name, context: { cluster: opts.name, user: `${opts.name}-admin` } }],
        'current-context': opts.name,
      },
      null,
      2,
    ) + '\n'
  );
}
