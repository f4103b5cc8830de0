// The canonical form of a rule destination: the identity of "the same destination" for delivery item ids and
// for reading the v1alpha1 ledger (src/delivery/legacy-ledger.ts).
import { createHash } from 'node:crypto';
import type { Destination } from '../api/types.ts';

/**
 * Channel names lose their `#` and case (Slack names are lowercase), IDs keep theirs, emails are lowercased:
 * `#Data-Alerts` and `data-alerts` are the same destination. A name and an ID of one channel are not.
 */
export function destinationRef(destination: Destination): string {
  if (destination.user !== undefined) return `user:${destination.user.trim().toLowerCase()}`;
  const channel = (destination.channel ?? '').trim().replace(/^#/, '');
  return `channel:${/^[CGD][A-Z0-9]{6,}$/.test(channel) ? channel : channel.toLowerCase()}`;
}

/** Short stable id of a destination reference: 8 base64url characters of its SHA-256 (the v1alpha1 ledger's). */
export function destinationId(ref: string): string {
  return createHash('sha256').update(ref).digest('base64url').slice(0, 8);
}
