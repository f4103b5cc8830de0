// The web view's stylesheet and browser script, kept as strings so that they ship inside the compiled
// package with no file copying. The script is small on purpose: the server renders all the HTML.

export const clientScript = String.raw`(() => {
  'use strict';
  const body = document.body;
  const sidebar = document.getElementById('sidebar');
  const main = document.getElementById('main');
  const toast = document.getElementById('toast');
  let channel = body.dataset.channel;
  let version = Number(body.dataset.version);

  function scrollToEnd() {
    const list = document.getElementById('messages');
    if (list) list.scrollTop = list.scrollHeight;
  }

  async function refresh() {
    const response = await fetch('/_view/fragment?channel=' + encodeURIComponent(channel));
    const fragment = await response.json();
    const list = document.getElementById('messages');
    const atEnd = !list || list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    sidebar.innerHTML = fragment.sidebar;
    main.innerHTML = fragment.main;
    version = fragment.version;
    body.dataset.version = String(version);
    if (atEnd) scrollToEnd();
  }

  // Long-poll: the emulator answers as soon as anything changes (or after 25 s).
  async function watch() {
    for (;;) {
      try {
        const response = await fetch('/_control/version?after=' + version + '&waitMs=25000');
        const latest = (await response.json()).version;
        if (latest !== version) await refresh();
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 1000)); // the emulator is restarting
      }
    }
  }

  function show(text) {
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(show.timer);
    show.timer = setTimeout(() => { toast.hidden = true; }, 4000);
  }

  sidebar.addEventListener('click', (event) => {
    const link = event.target.closest('a.channel');
    if (!link) return;
    event.preventDefault();
    channel = link.dataset.channel;
    history.pushState(null, '', link.href);
    refresh();
  });

  // Buttons: the emulator sends the signed block_actions payload to the app's Request URL.
  main.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-action-id]');
    if (!button) return;
    const response = await fetch('/_control/click', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: button.dataset.channel, ts: button.dataset.ts, actionId: button.dataset.actionId }),
    });
    const result = await response.json();
    show(response.ok ? 'Sent to the app: HTTP ' + result.status : result.error);
  });

  scrollToEnd();
  watch();
})();
`;

export const styleSheet = `
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; }
body { font: 15px/1.46668 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "DejaVu Sans", Arial, sans-serif; color: #1d1c1d; background: #fff; }
a { color: #1264a3; text-decoration: none; }
a:hover { text-decoration: underline; }
.app { display: flex; height: 100vh; }
.sidebar { width: 240px; flex: none; background: #3f0e40; color: #cfc3cf; overflow-y: auto; padding-bottom: 16px; }
.team { color: #fff; font-weight: 900; font-size: 18px; padding: 14px 16px 10px; border-bottom: 1px solid #522653; }
.team-sub { font-weight: 400; font-size: 12px; color: #bcabbc; }
.section-title { padding: 14px 16px 4px; font-size: 13px; color: #bcabbc; }
.channel { display: flex; align-items: center; gap: 6px; padding: 3px 16px; color: #cfc3cf; font-size: 15px; }
.channel:hover { background: #350d36; text-decoration: none; }
.channel.selected { background: #1164a3; color: #fff; }
.channel.archived .name { text-decoration: line-through; opacity: .7; }
.channel .icon { width: 16px; text-align: center; opacity: .8; font-size: 13px; }
.channel .tag { font-size: 11px; opacity: .7; }
.channel .count { margin-left: auto; font-size: 11px; background: #522653; border-radius: 9px; padding: 0 7px; color: #fff; }
.main { flex: 1; display: flex; flex-direction: column; min-width: 0; }
.channel-header { display: flex; align-items: center; gap: 8px; padding: 10px 20px; border-bottom: 1px solid #ddd; }
.channel-header h1 { font-size: 18px; margin: 0 6px 0 0; font-weight: 900; }
.badge { font-size: 12px; color: #616061; border: 1px solid #ddd; border-radius: 4px; padding: 0 6px; }
.badge.archived, .badge.warn { color: #8d5b00; border-color: #ecb22e; background: #fdf6e3; }
.channel-id { margin-left: auto; font: 12px monospace; color: #868686; }
.messages { flex: 1; overflow-y: auto; padding: 8px 0 24px; }
.empty { color: #868686; padding: 24px 20px; }
.message { display: flex; gap: 8px; padding: 8px 20px; }
.message:hover { background: #f8f8f8; }
.avatar { width: 36px; height: 36px; flex: none; border-radius: 4px; background: #9f69e7; color: #fff; display: flex; align-items: center; justify-content: center; font-weight: 700; }
.avatar.app { background: #2b6cb0; }
.content { flex: 1; min-width: 0; }
.meta { display: flex; align-items: baseline; gap: 6px; }
.sender { font-weight: 900; }
.app-badge { font-size: 10px; font-weight: 700; color: #616061; background: #e8e8e8; border-radius: 2px; padding: 0 3px; }
.time, .edited, .via { font-size: 12px; color: #616061; }
.ephemeral { font-size: 12px; color: #616061; font-style: italic; }
.text, .section-text, .field, .att-text { white-space: normal; overflow-wrap: anywhere; }
.block { margin: 4px 0; }
.block.header { font-size: 18px; font-weight: 900; margin-top: 6px; }
.block.section { display: flex; gap: 12px; }
.section-body { flex: 1; min-width: 0; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 16px; margin-top: 4px; }
.block.context { display: flex; flex-wrap: wrap; gap: 8px; font-size: 12px; color: #616061; }
.block.divider { border: none; border-top: 1px solid #ddd; margin: 10px 0; }
.block.actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 8px; }
.btn { font: inherit; font-size: 14px; font-weight: 700; border: 1px solid #bbb; background: #fff; color: #1d1c1d; border-radius: 4px; padding: 3px 12px; cursor: pointer; display: inline-block; }
.btn:hover { background: #f6f6f6; text-decoration: none; }
.btn.primary { background: #007a5a; border-color: #007a5a; color: #fff; }
.btn.danger { background: #e01e5a; border-color: #e01e5a; color: #fff; }
.element { font-size: 14px; border: 1px solid #bbb; border-radius: 4px; padding: 3px 10px; color: #616061; }
.image-link { font-size: 14px; }
.mention { background: #e8f5fa; color: #1264a3; border-radius: 3px; padding: 0 2px; }
code { font: 12px monospace; color: #c01343; background: #f6f6f6; border: 1px solid #ddd; border-radius: 3px; padding: 1px 3px; }
pre { font: 12px/1.5 monospace; background: #f8f8f8; border: 1px solid #ddd; border-radius: 4px; padding: 8px; white-space: pre-wrap; margin: 4px 0; }
.quote { display: block; border-left: 4px solid #ddd; padding-left: 10px; }
.att-pretext { margin-top: 4px; }
.attachment { border-left: 4px solid #ddd; border-radius: 4px 0 0 4px; padding: 2px 0 2px 12px; margin: 6px 0 2px; }
.att-author { font-weight: 700; font-size: 13px; }
.att-title { font-weight: 700; }
.att-fields { display: flex; flex-wrap: wrap; gap: 6px 0; margin-top: 4px; }
.att-field { width: 100%; }
.att-field.short { width: 50%; }
.att-footer { font-size: 12px; color: #616061; margin-top: 4px; }
.thread { margin: 0 20px 6px 64px; border-left: 2px solid #e0e0e0; }
.thread .message { padding-left: 12px; }
.thread-label { font-size: 13px; font-weight: 700; color: #1264a3; padding: 2px 12px; }
.message.deleted { color: #868686; }
#toast { position: fixed; bottom: 16px; right: 16px; background: #1d1c1d; color: #fff; padding: 8px 14px; border-radius: 6px; font-size: 14px; }
`;
