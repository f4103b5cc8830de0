import type { EventType } from '../api/types.ts';

/** Why a Job counts as Cancelled (product.md §2). */
export type CancellationCause = 'Deleted' | 'Suspended';

/** A terminal outcome of one Job run: the unit that rules match and the ledger records. */
export interface Outcome {
  event: EventType;
  /** Job condition reason (BackoffLimitExceeded, DeadlineExceeded, …) or the cancellation cause */
  reason?: string;
  message?: string;
  cancellation?: CancellationCause;
  /** when the outcome happened: the terminal condition's lastTransitionTime, or when the cancellation was seen */
  at: string;
}
