// jobherald slack-emulator: a local Slack Web API (failures included) with a web view, for the demo,
// previews without a workspace, and tests of other processes (docs/slack-emulator.md).
import { parseArgs } from 'node:util';
import yaml from 'js-yaml';
import { defaultWorkspace, startSlackEmulator, type RateLimitOption } from '../dev/slack-emulator/index.ts';

const HELP = `Usage: jobherald slack-emulator [--port N] [--host H] [--workspace FILE] [--rate-limits slack|off|SCALE]
       jobherald slack-emulator --print-workspace

  --port N            listen on port N (default 3030; 0 picks a free port)
  --host H            listen on H (default 127.0.0.1)
  --workspace FILE    the workspace (YAML or JSON); the documented default workspace otherwise
  --rate-limits X     slack (default): Slack's limits; off; or a number that multiplies every rate
  --print-workspace   print the default workspace as YAML (a template for --workspace) and exit

Docs: docs/slack-emulator.md
`;

function rateLimitOption(value: string): RateLimitOption {
  if (value === 'slack' || value === 'off') return value;
  const scale = Number(value);
  if (!Number.isFinite(scale) || scale <= 0)
    throw new Error(`--rate-limits: expected slack, off or a positive number, got "${value}"`);
  return { scale };
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: '3030' },
      host: { type: 'string', default: '127.0.0.1' },
      workspace: { type: 'string' },
      'rate-limits': { type: 'string', default: 'slack' },
      'print-workspace': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values['print-workspace']) {
    process.stdout.write(yaml.dump(defaultWorkspace(), { flowLevel: 3, lineWidth: 120 }));
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`--port: not a port number: ${values.port}`);

  const slack = await startSlackEmulator({
    port,
    host: values.host,
    rateLimits: rateLimitOption(values['rate-limits']),
    ...(values.workspace === undefined ? {} : { workspace: values.workspace }),
  });
  const summary = await slack.control.workspace();
  // Tokens are secrets: say how many there are, never what they are.
  process.stdout.write(
    [
      `Slack emulator for team ${summary.team.name} (${summary.team.id}) on ${slack.url}`,
      `  web view     ${slack.url}/`,
      `  Web API      ${slack.apiUrl}   (WebClient slackApiUrl)`,
      `  control API  ${slack.url}/_control/`,
      `  workspace    ${values.workspace ?? 'default (bot token documented in docs/slack-emulator.md)'}`,
      `  rate limits  ${values['rate-limits']}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await slack.stop();
  return 0;
}
