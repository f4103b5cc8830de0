// `jobherald render --job JOB.yaml [--outcome Failed]`: preview the alert a Job would produce. Prints the
// chat.postMessage payload as JSON on stdout and a short text preview on stderr.
import { parseArgs } from 'node:util';
import type { EventType, NotificationRule } from '../api/types.ts';
import { EVENT_TYPES } from '../api/types.ts';
import { validateResource } from '../api/validate.ts';
import { toJobRecord } from '../kube/job-record.ts';
import { terminalOutcome } from '../domain/outcome.ts';
import type { Outcome } from '../domain/outcome-types.ts';
import type { JobRecord } from '../domain/job.ts';
import type { SlackMessage } from '../domain/message.ts';
import { renderAlert } from '../domain/render.ts';
import { parseDocuments, processIo, readSources, type Io } from './validate.ts';
import { rfc3339 } from '../domain/time.ts';

const USAGE = `Usage: jobherald render --job JOB.yaml [--outcome Succeeded|Failed|Cancelled] [options]

Print the Slack message jobherald would send for a Job (JSON payload on stdout, text preview on stderr).
  --job FILE            the Job (YAML or JSON, e.g. kubectl get job X -o yaml); - for stdin
  --outcome EVENT       Succeeded, Failed or Cancelled (default: what the Job's conditions say)
  --reason TEXT         reason to show (default: from the Job's condition; Deleted for Cancelled)
  --message TEXT        message to show (default: from the Job's condition)
  --cluster-name NAME   cluster name shown in the message
  --rule FILE           a NotificationRule whose links (and, unresolved, mentions) are added
`;

function fail(io: Io, message: string, code = 2): number {
  io.err(`jobherald render: ${message}\n`);
  return code;
}

async function firstDocument(path: string, io: Io, kind: string): Promise<unknown> {
  const [source] = await readSources([path], false, io);
  if (source === undefined) throw new Error(`${path}: nothing to read`);
  const doc = parseDocuments(source).find((d) => (d as { kind?: unknown } | null)?.kind === kind);
  if (doc === undefined) throw new Error(`${path}: no ${kind} in it`);
  return doc;
}

/** The outcome to render: the one asked for, completed from the Job's own conditions where they agree. */
export function chooseOutcome(
  job: JobRecord,
  event: EventType | undefined,
  reason: string | undefined,
  message: string | undefined,
  now: string,
): Outcome | undefined {
  const actual = terminalOutcome(job);
  if (event === undefined && actual === undefined) return undefined;
  const chosen = event ?? actual?.event ?? 'Succeeded';
  const same = actual?.event === chosen ? actual : undefined;
  const outcome: Outcome = { event: chosen, at: same?.at ?? job.completionTime ?? now };
  const why = reason ?? same?.reason ?? (chosen === 'Cancelled' ? 'Deleted' : undefined);
  if (why !== undefined) outcome.reason = why;
  const text = message ?? same?.message;
  if (text !== undefined) outcome.message = text;
  if (chosen === 'Cancelled') outcome.cancellation = why === 'Suspended' ? 'Suspended' : 'Deleted';
  return outcome;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>' };

/** A readable plain-text view of a message: date tokens replaced by their fallback, entities decoded. */
export function previewText(message: SlackMessage): string {
  const texts: string[] = [message.text];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (typeof node === 'object' && node !== null) {
      const object = node as Record<string, unknown>;
      if (object['type'] === 'button') {
        const label = (object['text'] as { text?: string } | undefined)?.text ?? '';
        texts.push(`[${label}] ${String(object['url'])}`);
        return;
      }
      if (object['type'] === 'mrkdwn' && typeof object['text'] === 'string') texts.push(object['text']);
      Object.values(object).forEach(visit);
    }
  };
  visit(message.attachments ?? []);
  return texts
    .map((t) =>
      t
        .replace(/^\*([^*\n]+)\*\n/, '$1: ')
        .replace(/<!date\^\d+\^[^|>]*\|([^>]*)>/g, '$1')
        .replace(/&(amp|lt|gt);/g, (e) => ENTITIES[e] ?? e),
    )
    .join('\n');
}

export async function run(args: string[], io: Io = processIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        job: { type: 'string' },
        outcome: { type: 'string' },
        reason: { type: 'string' },
        message: { type: 'string' },
        'cluster-name': { type: 'string' },
        rule: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    return fail(io, `${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (values.job === undefined) return fail(io, `--job is required\n\n${USAGE}`);
  const event = values.outcome as EventType | undefined;
  if (event !== undefined && !EVENT_TYPES.includes(event)) {
    return fail(io, `--outcome must be one of ${EVENT_TYPES.join(', ')}, not "${event}"`);
  }

  let job: JobRecord;
  let rule: NotificationRule | undefined;
  try {
    job = toJobRecord((await firstDocument(values.job, io, 'Job')) as never);
    if (values.rule !== undefined) {
      const result = validateResource(await firstDocument(values.rule, io, 'NotificationRule'));
      if (!result.ok) {
        return fail(
          io,
          `${values.rule}: ${result.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
          1,
        );
      }
      rule = result.value as NotificationRule;
    }
  } catch (error) {
    return fail(io, error instanceof Error ? error.message : String(error), 1);
  }

  const now = rfc3339();
  const outcome = chooseOutcome(job, event, values.reason, values.message, now);
  if (outcome === undefined) {
    return fail(
      io,
      `Job ${job.namespace}/${job.name} has not finished yet; pass --outcome to preview one`,
      1,
    );
  }
  const mentions = (rule?.spec.mentions ?? []).map((m) => `@${m.user ?? m.group ?? ''}`);
  const input: Parameters<typeof renderAlert>[0] = { job, outcome, mentions };
  if (values['cluster-name'] !== undefined) input.clusterName = values['cluster-name'];
  if (rule?.spec.links !== undefined) input.links = rule.spec.links;
  const message = renderAlert(input);
  io.err(`${previewText(message)}\n\n`);
  io.out(`${JSON.stringify(message, null, 2)}\n`);
  return 0;
}
