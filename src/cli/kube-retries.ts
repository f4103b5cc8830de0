// Retrying one API call the way the CLI's cluster-wide commands do: a few tries with doubling delays for what
// is worth another try (the transport failed, the server was busy, briefly unable, or the object changed
// under a conditional patch), never for a verdict (403, 404, 422 …).
import { RetryableError } from '../errors.ts';
import { KubeApiError } from '../kube/connection.ts';

const ATTEMPTS = 5;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Worth another try: the transport failed, the server was busy or briefly unable. Not 4xx verdicts. */
export function transient(error: unknown): boolean {
  if (error instanceof KubeApiError) return [409, 429, 500, 502, 503, 504].includes(error.status);
  return error instanceof RetryableError;
}

export async function withRetries<T>(call: () => Promise<T>, delayMs: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= ATTEMPTS || !transient(error)) throw error;
      await sleep(delayMs * 2 ** (attempt - 1));
    }
  }
}
