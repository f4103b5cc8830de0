// The `state` of an install link: names one SlackIntegration, expires, and is signed with that
// integration's own client secret (HMAC-SHA256), so the OAuth redirect can tell a link jobherald issued from
// a forged or edited one without any key of its own. "Accepted once" is the nonce: the integration's status
// holds the current one, and a successful install moves it on (src/reconcilers/integration-runtime.ts).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface InstallState {
  namespace: string;
  name: string;
  nonce: string;
  /** ms since the epoch */
  expiresAt: number;
}

const VERSION = 'v1';
const b64url = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
const unb64url = (s: string) => Buffer.from(s, 'base64url').toString('utf8');
const mac = (key: string, payload: string) => createHmac('sha256', key).update(payload).digest('base64url');

export const newNonce = (): string => randomBytes(12).toString('base64url');

export function signState(state: InstallState, clientSecret: string): string {
  const payload = [
    VERSION,
    b64url(state.namespace),
    b64url(state.name),
    state.nonce,
    String(Math.floor(state.expiresAt / 1000)),
  ].join('.');
  return `${payload}.${mac(clientSecret, payload)}`;
}

/** The state's claims, unverified: which integration to look up (and so which client secret checks it). */
export function peekState(value: string): InstallState | undefined {
  const parts = value.split('.');
  if (parts.length !== 6 || parts[0] !== VERSION) return undefined;
  const [, ns, name, nonce, exp] = parts as [string, string, string, string, string, string];
  const expiresAt = Number(exp) * 1000;
  if (!Number.isFinite(expiresAt) || nonce === '') return undefined;
  try {
    return { namespace: unb64url(ns), name: unb64url(name), nonce, expiresAt };
  } catch {
    return undefined;
  }
}

/** Whether `value` was signed with this client secret (constant-time). */
export function verifyState(value: string, clientSecret: string): boolean {
  const cut = value.lastIndexOf('.');
  if (cut < 0) return false;
  const expected = Buffer.from(mac(clientSecret, value.slice(0, cut)));
  const given = Buffer.from(value.slice(cut + 1));
  return expected.length === given.length && timingSafeEqual(expected, given);
}
