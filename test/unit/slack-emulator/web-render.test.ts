// The web view's HTML: mrkdwn (escaping first: alerts carry Job names and logs), Block Kit, attachments.
import { describe, expect, it } from 'vitest';
import type { EmulatedMessage } from '../../../src/dev/slack-emulator/index.ts';
import {
  attachmentColour,
  blockHtml,
  messageHtml,
} from '../../../src/dev/slack-emulator/web/render-message.ts';
import {
  mrkdwnToHtml,
  plainToHtml,
  type Directory,
} from '../../../src/dev/slack-emulator/web/render-mrkdwn.ts';

const dir: Directory = {
  userName: (id) => ({ U0ALICE001: 'alice' })[id],
  groupHandle: (id) => ({ S0ONCALL01: 'oncall' })[id],
  channelName: (id) => ({ C0ALERTS01: 'alerts' })[id],
};
const at = { channel: 'C0ALERTS01', ts: '1700000000.000100' };

describe('mrkdwn', () => {
  it('escapes HTML, and shows Slack-escaped characters as themselves', () => {
    expect(mrkdwnToHtml('a &lt;b&gt; &amp; "c" \'d\'', dir)).toBe(
      'a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39;',
    );
    // Raw < … > is a control sequence; one that is not a link target comes out as inert text.
    expect(mrkdwnToHtml('<img src=x onerror=alert(1)>', dir)).toBe('img src=x onerror=alert(1)');
    expect(mrkdwnToHtml('```<script>alert(1)</script>```', dir)).toBe(
      '<pre>&lt;script&gt;alert(1)&lt;/script&gt;</pre>',
    );
  });

  it('resolves user, group, channel and special mentions', () => {
    expect(
      mrkdwnToHtml('cc <@U0ALICE001> <!subteam^S0ONCALL01> <#C0ALERTS01> <!here> <@U0GHOST01>', dir),
    ).toBe(
      'cc <span class="mention">@alice</span> <span class="mention">@oncall</span> <span class="mention">#alerts</span> <span class="mention">@here</span> <span class="mention">@U0GHOST01</span>',
    );
  });

  it('renders links, refusing anything but http(s) and mailto', () => {
    expect(mrkdwnToHtml('<https://ci.example/run?id=1&amp;x=2|the run>', dir)).toBe(
      '<a href="https://ci.example/run?id=1&amp;x=2" target="_blank" rel="noreferrer">the run</a>',
    );
    expect(mrkdwnToHtml('<javascript:alert(1)|click>', dir)).toBe('click');
  });

  it('formats bold, italic, strike, code, code blocks, quotes and newlines', () => {
    expect(mrkdwnToHtml('*Failed* _now_ ~old~ `kubectl logs`', dir)).toBe(
      '<b>Failed</b> <i>now</i> <s>old</s> <code>kubectl logs</code>',
    );
    expect(mrkdwnToHtml('log:\n```\nError: *not bold* <tag>\n```', dir)).toBe(
      'log:<br><pre>Error: *not bold* &lt;tag&gt;\n</pre>',
    );
    expect(mrkdwnToHtml('> quoted\nplain', dir)).toBe('<span class="quote">quoted</span><br>plain');
    expect(mrkdwnToHtml('a snake_case_name stays', dir)).toBe('a snake_case_name stays');
  });

  it('formats date tokens in UTC and known emoji', () => {
    expect(mrkdwnToHtml('<!date^1768469400^{date_short_pretty} {time_secs}|2026-01-15T09:30:00Z>', dir)).toBe(
      'Jan 15, 2026 09:30:00',
    );
    expect(mrkdwnToHtml(':x: :unknown_one:', dir)).toBe('❌ :unknown_one:');
    expect(plainToHtml('*not bold* <b>')).toBe('*not bold* &lt;b&gt;');
  });
});

describe('Block Kit', () => {
  it('renders a section with fields and a button accessory', () => {
    const html = blockHtml(
      {
        type: 'section',
        text: { type: 'mrkdwn', text: '*Job*' },
        fields: [
          { type: 'mrkdwn', text: '*Namespace*\ndata' },
          { type: 'plain_text', text: 'plain *x*' },
        ],
        accessory: {
          type: 'button',
          action_id: 'ack',
          text: { type: 'plain_text', text: 'Ack' },
          style: 'primary',
        },
      },
      dir,
      at,
    );
    expect(html).toContain(
      '<div class="field"><b>Namespace</b><br>data</div><div class="field">plain *x*</div>',
    );
    expect(html).toContain(
      '<button class="btn primary" data-action-id="ack" data-channel="C0ALERTS01" data-ts="1700000000.000100">Ack</button>',
    );
  });

  it('shows images as links, link buttons as links, and names unknown blocks', () => {
    expect(
      blockHtml({ type: 'image', image_url: 'https://x.example/a.png', alt_text: 'graph' }, dir, at),
    ).toContain('<a href="https://x.example/a.png" target="_blank" rel="noreferrer">graph</a>');
    expect(
      blockHtml(
        {
          type: 'actions',
          elements: [
            { type: 'button', text: { type: 'plain_text', text: 'Logs' }, url: 'https://logs.example/' },
          ],
        },
        dir,
        at,
      ),
    ).toContain('<a class="btn" href="https://logs.example/"');
    expect(blockHtml({ type: 'video' }, dir, at)).toContain('[video block]');
  });
});

describe('messages', () => {
  const base: EmulatedMessage = {
    channel: 'C0ALERTS01',
    ts: '1768469400.000100',
    text: 'fallback <@U0ALICE001>',
    poster: { userId: 'U0JOBHERLD', botId: 'B0JOBHERLD', via: 'api' },
    postedAt: 0,
    updates: 0,
    history: [],
  };

  it('shows the blocks instead of the text when there are blocks', () => {
    const html = messageHtml(
      { ...base, blocks: [{ type: 'divider' }] },
      { name: 'jobherald', isApp: true },
      dir,
    );
    expect(html).not.toContain('fallback');
    expect(html).toContain('<hr class="block divider">');
    expect(html).toContain('<span class="app-badge">APP</span>');
    expect(html).toContain('09:30:00 UTC');
  });

  it('shows the text with attachments and their colour bar, and marks edits', () => {
    const html = messageHtml(
      {
        ...base,
        updates: 1,
        attachments: [
          { color: 'e01e5a', text: 'details', fields: [{ title: 'Pods', value: '1 failed', short: true }] },
        ],
      },
      { name: 'jobherald', isApp: true },
      dir,
    );
    expect(html).toContain('fallback <span class="mention">@alice</span>');
    expect(html).toContain('style="border-left-color:#e01e5a"');
    expect(html).toContain('<div class="att-field short"><b>Pods</b><div>1 failed</div></div>');
    expect(html).toContain('(edited)');
  });

  it('maps attachment colours like Slack', () => {
    expect(attachmentColour('good')).toBe('#2eb886');
    expect(attachmentColour('danger')).toBe('#a30200');
    expect(attachmentColour('#36C5F0')).toBe('#36C5F0');
    expect(attachmentColour('red; background:url(x)')).toBe('#dddddd');
    expect(attachmentColour(undefined)).toBe('#dddddd');
  });
});
