// A Slack message as jobherald sends it: chat.postMessage arguments minus channel/thread.
// `text` is always set: it is the notification and accessibility fallback for blocks/attachments.
export interface SlackMessage {
  text: string;
  blocks?: Record<string, unknown>[];
  attachments?: Record<string, unknown>[];
}
