// When a custom resource's spec last changed, by the API server's clock (never this process's): read from
// managedFields, which the API server stamps on every create and update.
import type { ObjectMeta } from './types.ts';

/**
 * When an object's spec last changed, by the API server's clock: the newest managedFields entry (not of the
 * status subresource) whose manager owns part of spec. A label edit by the same manager counts too, which only
 * ever makes jobherald more careful about old outcomes. NaN when the object carries no managed fields.
 */
export function lastSpecChange(object: { metadata: Pick<ObjectMeta, 'managedFields'> }): number {
  let latest = Number.NaN;
  for (const entry of object.metadata.managedFields ?? []) {
    if (entry.subresource !== undefined && entry.subresource !== '') continue;
    const fields = entry.fieldsV1 as Record<string, unknown> | undefined;
    if (fields === undefined || !('f:spec' in fields)) continue;
    const at = Date.parse(entry.time ?? '');
    if (!Number.isNaN(at) && !(at <= latest)) latest = at;
  }
  return latest;
}
