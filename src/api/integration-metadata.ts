// What jobherald writes on a SlackIntegration besides its status: one finalizer, only with spec.onDelete. The
// name is a contract with `jobherald release-finalizers` and docs/api.md: rename it not without an ADR.

/** Holds a SlackIntegration's deletion until spec.onDelete was done in Slack (or the removal timeout passed). */
export const REMOVAL_FINALIZER = 'jobherald.dev/slack-removal';
