/** A time as Kubernetes writes it: RFC 3339 in whole seconds, UTC (`2026-11-21T10:00:05Z`). */
export const rfc3339 = (time: Date | number = new Date()): string =>
  new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
