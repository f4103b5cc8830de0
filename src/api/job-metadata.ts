// What jobherald writes on other people's Jobs: one finalizer and one annotation, nothing else (never spec).
// The names are a contract with the chart (MutatingAdmissionPolicy, uninstall hook), docs/install.md and
// anyone who reads the record: rename none without an ADR.

/**
 * Held on a Job that an active rule matches until every outcome those rules want is recorded, so a Job that
 * vanishes (ttlSecondsAfterFinished: 0, CronJob history limit 0, kubectl delete) while jobherald is down or
 * failing over waits in Terminating instead of being lost. docs/adr/0009-delivery-finalizer.md.
 */
export const DELIVERY_FINALIZER = 'jobherald.dev/delivery';

/** What was delivered about the Job, per rule and event: docs/adr/0010-delivery-record-on-the-job.md. */
export const DELIVERY_RECORD_ANNOTATION = 'jobherald.dev/delivered';

/**
 * The ConfigMap (in the operator's namespace) whose data keys are the namespaces that active rules reach:
 * the MutatingAdmissionPolicy adds the finalizer at creation only to Jobs in those namespaces.
 */
export const DEFAULT_ADMISSION_PARAMS = 'jobherald-watched-namespaces';
