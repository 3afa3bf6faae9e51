/* hetki chat widget: the customer's floating chat panel, embeddable with one script tag:
 *   <script src="https://chat.example/widget.js" data-tenant="demo" data-lang="fi" defer></script>
 * data-tenant (default "demo"), data-lang (fi/sv/en; else the page's <html lang>, else the
 * browser's language; switchable in the panel), data-endpoint (websocket URL; default /ws on
 * the script's host). It loads widget-texts.js and widget.css from beside itself.
 * Speaks hetki-chat.v1 (docs/protocols/chat.md): a message shows as "sending" until the service
 * acks it (after the router's ack); unacked messages are kept, also across page loads, and
 * resent after a reconnect (exponential backoff) with the resume token. Plain JS, no build. */
(() => {
  'use strict';

  const script = document.currentScript ||
    [...document.querySelectorAll('script[src*="widget.js"]')].pop();
  if (!script || window.hetkiChat) {
    return;
  }

  const LANGS = ['fi', 'sv', 'en'];
  const MAX_TEXT = 4096; // bytes of UTF-8: the service's default HETKI_CHAT_MAX_TEXT
  const WINDOW = 8; // unacked messages in flight at once
  const RATE = 15; // messages per 10 s we allow ourselves (the service allows 20)
  const TYPING_EVERY_MS = 4000;

  /* ---- configuration from the script tag ---- */

  const pickLang = (v) => {
    const l = String(v || '').toLowerCase().slice(0, 2);
    return LANGS.includes(l) ? l : '';
  };
  const browserLang = () =>
    (navigator.languages || [navigator.language]).map(pickLang).find(Boolean) || '';
  const scriptUrl = new URL(script.getAttribute('src') || 'widget.js', location.href);
  const beside = (name) => scriptUrl.href.replace(/widget\.js(\?.*)?$/, name);
  const tenant = script.dataset.tenant || 'demo';
  const endpoint = script.dataset.endpoint ||
    `${scriptUrl.protocol === 'https:' ? 'wss' : 'ws'}://${scriptUrl.host}/ws`;

  /* ---- storage: the resume token and unacked messages survive a reload ---- */

  const storeKey = `hetki-chat:v1:${tenant}:${endpoint}`;
  const store = (() => {
    for (const name of ['localStorage', 'sessionStorage']) {
      try {
        const s = window[name];
        s.setItem(`${storeKey}:probe`, '1');
        s.removeItem(`${storeKey}:probe`);
        return s;
      } catch (e) {
        // blocked (privacy settings): try the next one
      }
    }
    const mem = new Map();
    return { getItem: (k) => mem.get(k) ?? null, setItem: (k, v) => mem.set(k, String(v)) };
  })();
  let saved = {};
  try {
    saved = JSON.parse(store.getItem(storeKey) || '{}') || {};
  } catch (e) {
    saved = {};
  }
  const str = (v) => (typeof v === 'string' ? v : '');
  const st = {
    resume: str(saved.resume),
    session: str(saved.session),
    contact: str(saved.contact),
    lang: pickLang(saved.lang),
    pending: (Array.isArray(saved.pending) ? saved.pending : [])
      .filter((p) => p && typeof p.id === 'string' && typeof p.text === 'string'),
    reassure: saved.reassure && typeof saved.reassure === 'object' ? saved.reassure : null,
    person: !!saved.person,
    personSent: !!saved.personSent,
    email: str(saved.email),
    emailPending: !!saved.emailPending,
    open: !!saved.open,
  };
  let lang = pickLang(script.dataset.lang) || st.lang ||
    pickLang(document.documentElement.getAttribute('lang')) || browserLang() || 'en';

  function persist() {
    try {
      store.setItem(storeKey, JSON.stringify(st));
    } catch (e) {
      // quota or privacy mode: go on in memory
    }
  }

  /* ---- helpers ---- */

  let TEXTS = null;
  const t = (key) => TEXTS[lang][key];
  const fmt = (text, vars) =>
    String(text).replace(/\{(\w+)\}/g, (m, k) => (vars && vars[k] !== undefined ? vars[k] : m));

  /* An element: props are attributes (aria-*, data-*, role, for) or properties. */
  function h(tag, props = {}, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === 'class') {
        e.className = v;
      } else if (/^(aria-|data-|role$|for$)/.test(k)) {
        e.setAttribute(k, v);
      } else {
        e[k] = v;
      }
    }
    e.append(...kids.filter((k) => k !== null && k !== undefined));
    return e;
  }

  function newId() {
    const b = crypto.getRandomValues(new Uint8Array(12));
    return `m${Array.from(b, (x) => (x & 31).toString(32)).join('')}-${Date.now().toString(36)}`;
  }

  /* A duration in the current language; within: the form after "within" (fi genitive). */
  function duration(seconds, within) {
    const u = t('unit');
    let n;
    let unit;
    if (seconds < 90 * 60) {
      n = Math.max(1, Math.ceil(seconds / 60));
      unit = u.minute;
    } else if (seconds < 36 * 3600) {
      n = Math.round(seconds / 3600);
      unit = u.hour;
    } else {
      n = Math.round(seconds / 86400);
      unit = u.day;
    }
    return `${n} ${within ? unit[2] : unit[n === 1 ? 0 : 1]}`;
  }

  function timeOf(ms) {
    return new Date(typeof ms === 'number' ? ms : Date.now())
      .toLocaleTimeString(lang === 'en' ? 'en-GB' : lang, { hour: '2-digit', minute: '2-digit' });
  }

  /* The reassurance after the first ack, as lines in the current language: received, what
   * happens next, the estimated wait (and for async answers the promised response time). */
  function reassureLines(r) {
    const target = String(r.target || '').split(':')[0];
    const next = t('next');
    const lines = [t('received')];
    if (r.class === 'urgent') {
      lines.push(t('urgent'));
    }
    lines.push(next[target] || next.other);
    if (r.message) {
      lines.push(String(r.message)); // the tenant's own words, e.g. while it is suspended
    }
    const promise = Number(r.promise_s);
    let wait = Number(r.wait_s);
    if (!(wait > 0) && target === 'async' && promise > 0) {
      wait = promise;
    }
    lines.push(wait >= 60 ? fmt(t('wait'), { t: duration(wait, false) }) : t('waitShort'));
    if (target === 'async' && promise > 0 && promise !== wait) {
      lines.push(fmt(t('promise'), { t: duration(promise, true) }));
    }
    return lines;
  }

  /* ---- the DOM, in a shadow root: the page's styles and ours stay apart ---- */

  const host = h('div', { id: 'hetki-chat' });
  host.style.visibility = 'hidden'; // until our styles are in
  const root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
  const ui = {};
  function build() {
    const css = h('link', { rel: 'stylesheet', href: beside('widget.css') });
    css.onload = css.onerror = () => { host.style.visibility = ''; };
    ui.launcherText = h('span', { class: 'hk-chat-launcher-text' });
    ui.badge = h('span', { class: 'hk-chat-badge', hidden: true });
    ui.launcher = h('button', { class: 'hk-chat-launcher', type: 'button',
      'aria-controls': 'hk-chat-panel', 'aria-expanded': 'false' },
    h('span', { class: 'hk-chat-launcher-icon' }), ui.launcherText, ui.badge);
    ui.title = h('h2', { class: 'hk-chat-title', id: 'hk-chat-title' });
    ui.langLabel = h('label', { class: 'hk-chat-visually-hidden', for: 'hk-chat-lang' });
    ui.langSelect = h('select', { class: 'hk-chat-lang', id: 'hk-chat-lang' },
      ...[['fi', 'Suomi'], ['sv', 'Svenska'], ['en', 'English']]
        .map(([v, name]) => h('option', { value: v, lang: v }, name)));
    ui.close = h('button', { class: 'hk-chat-close', type: 'button' }, '×');
    ui.person = h('button', { class: 'hk-chat-person', type: 'button' });
    ui.status = h('p', { class: 'hk-chat-status', role: 'status' });
    ui.greeting = h('li', { class: 'hk-chat-note hk-chat-greeting' });
    ui.log = h('ol', { class: 'hk-chat-log', role: 'log', 'aria-live': 'polite',
      'aria-relevant': 'additions', tabIndex: 0 }, ui.greeting);
    ui.typing = h('p', { class: 'hk-chat-typing', hidden: true });
    ui.inputLabel = h('label', { class: 'hk-chat-visually-hidden', for: 'hk-chat-input' });
    ui.input = h('textarea', { class: 'hk-chat-input', id: 'hk-chat-input', rows: 2,
      enterKeyHint: 'send' });
    ui.send = h('button', { class: 'hk-chat-send', type: 'submit' });
    ui.compose = h('form', { class: 'hk-chat-compose' }, ui.inputLabel, ui.input, ui.send);
    ui.emailToggle = h('button', { class: 'hk-chat-email-toggle', type: 'button',
      'aria-expanded': 'false', 'aria-controls': 'hk-chat-email' });
    ui.emailLabel = h('label', { class: 'hk-chat-email-label', for: 'hk-chat-email-input' });
    ui.emailInput = h('input', { class: 'hk-chat-email-input', id: 'hk-chat-email-input',
      type: 'email', autocomplete: 'email', required: true });
    ui.emailSave = h('button', { class: 'hk-chat-email-save', type: 'submit' });
    ui.emailNote = h('p', { class: 'hk-chat-email-note', 'aria-live': 'polite' });
    ui.emailForm = h('form', { class: 'hk-chat-email', id: 'hk-chat-email', hidden: true },
      ui.emailLabel, ui.emailInput, ui.emailSave, ui.emailNote);
    ui.panel = h('section', { class: 'hk-chat-panel', id: 'hk-chat-panel', role: 'dialog',
      'aria-modal': 'false', 'aria-labelledby': 'hk-chat-title', hidden: true },
    h('header', { class: 'hk-chat-header' }, ui.title, ui.langLabel, ui.langSelect, ui.close),
    ui.person, ui.status, ui.log, ui.typing, ui.compose,
    h('footer', { class: 'hk-chat-footer' }, ui.emailToggle, ui.emailForm));
    // Announcements while the panel is closed (the open log is a live region itself).
    ui.announcer = h('div', { class: 'hk-chat-visually-hidden', 'aria-live': 'polite' });
    root.append(css, ui.announcer, ui.panel, ui.launcher);
  }

  /* ---- the conversation in the DOM ---- */

  const shown = new Map(); // message id -> its <li>
  const notes = []; // [element, text key, vars]: re-rendered on a language switch
  let agentName = '';
  let unread = 0;
  let lastAgentId = '';
  let lastReadSent = '';
  let reassureEl = null;
  let statusKey = 'connecting';
  let statusVars = null;

  function announce(text) {
    if (!ui.panel.hidden) {
      return;
    }
    ui.announcer.textContent = '';
    setTimeout(() => { ui.announcer.textContent = text; }, 50);
  }

  const scrollDown = () => { ui.log.scrollTop = ui.log.scrollHeight; };

  function note(key, vars, cls = '') {
    const li = h('li', { class: `hk-chat-note ${cls}`.trim() }, fmt(t(key), vars));
    ui.log.append(li);
    notes.push([li, key, vars]);
    scrollDown();
    return li;
  }

  function setMsgState(li, state) {
    li.dataset.state = state;
    const s = li.querySelector('.hk-chat-msg-state');
    if (s) {
      s.textContent = state ? t(state) : '';
    }
  }

  /* Adds a message bubble (m.from "customer" or "agent") once; returns its <li>. */
  function addMessage(m, state) {
    if (shown.has(m.id)) {
      return shown.get(m.id);
    }
    const agent = m.from === 'agent';
    const at = typeof m.at === 'number' ? m.at : Date.now();
    const li = h('li', { class: `hk-chat-msg hk-chat-msg-${agent ? 'agent' : 'customer'}`,
      'data-id': m.id, 'data-from': agent ? 'agent' : 'customer' },
    h('span', { class: 'hk-chat-msg-name' }, agent ? m.name || agentName || t('agent') : t('you')),
    h('p', { class: 'hk-chat-msg-text' }, String(m.text ?? '')),
    h('span', { class: 'hk-chat-msg-meta' },
      h('time', { class: 'hk-chat-msg-time', dateTime: new Date(at).toISOString() }, timeOf(at)),
      agent ? null : h('span', { class: 'hk-chat-msg-state' })));
    if (!agent) {
      setMsgState(li, state || 'sent');
    }
    ui.log.append(li);
    shown.set(m.id, li);
    scrollDown();
    return li;
  }

  /* Shows, or re-renders in the current language, the reassurance right after the message
   * that started the contact (not before that message is in the log). */
  function renderReassure() {
    if (!st.reassure) {
      return;
    }
    if (!reassureEl) {
      const anchor = st.reassure.after && shown.get(st.reassure.after);
      if (st.reassure.after && !anchor) {
        return;
      }
      reassureEl = h('li', { class: 'hk-chat-note hk-chat-reassure' });
      ui.log.insertBefore(reassureEl, anchor ? anchor.nextSibling : null);
    }
    reassureEl.dataset.contact = st.reassure.contact || '';
    reassureEl.lang = lang;
    reassureEl.replaceChildren(...reassureLines(st.reassure)
      .map((line) => h('span', { class: 'hk-chat-reassure-line' }, line)));
    scrollDown();
  }

  function setStatus(key, vars) {
    statusKey = key;
    statusVars = vars;
    ui.status.textContent = key ? fmt(t(key), vars) : '';
    ui.status.dataset.status = key || '';
  }

  function showTyping(on) {
    clearTimeout(showTyping.timer);
    ui.typing.hidden = !on;
    if (on) {
      ui.typing.textContent = fmt(t('typing'), { name: agentName || t('agent') });
      showTyping.timer = setTimeout(() => showTyping(false), 6000);
    }
  }

  /* Every text in the current language. */
  function renderTexts() {
    ui.panel.lang = ui.launcher.lang = lang;
    ui.launcherText.textContent = t('launcher');
    ui.launcher.setAttribute('aria-label', t('launcher') + (unread ? ` (${unread})` : ''));
    ui.title.textContent = t('title');
    ui.langLabel.textContent = t('language');
    ui.langSelect.value = lang;
    ui.close.setAttribute('aria-label', t('close'));
    ui.close.title = t('close');
    ui.person.textContent = t('person');
    ui.log.setAttribute('aria-label', t('log'));
    ui.greeting.textContent = t('greeting');
    ui.inputLabel.textContent = t('inputLabel');
    ui.input.placeholder = t('placeholder');
    ui.send.textContent = t('send');
    ui.emailToggle.textContent = t('emailOpen');
    ui.emailLabel.textContent = t('emailLabel');
    ui.emailSave.textContent = t('emailSave');
    for (const li of shown.values()) {
      if (li.dataset.from === 'customer') {
        li.querySelector('.hk-chat-msg-name').textContent = t('you');
        setMsgState(li, li.dataset.state);
      }
    }
    notes.forEach(([e, key, vars]) => { e.textContent = fmt(t(key), vars); });
    setStatus(statusKey, statusVars);
    renderReassure();
    if (!ui.typing.hidden) {
      showTyping(true);
    }
  }

  /* ---- the connection ---- */

  let ws = null;
  let ready = false; // welcome received on this connection
  let attempt = 0;
  let retryTimer = null;
  let resting = false; // closed for idleness: reconnect on the customer's next action
  let inFlight = new Set(); // sent on this connection, not acked yet
  let sentTimes = []; // send times, for our own rate limit
  let lastTyping = 0;
  let pumpTimer = null;

  function send(obj) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(obj));
      return true;
    }
    return false;
  }

  function hello() {
    send({ type: 'hello', tenant, lang, ...(st.resume ? { resume: st.resume } : {}) });
  }

  function connect() {
    if (ws || typeof WebSocket === 'undefined') {
      return;
    }
    clearTimeout(retryTimer);
    retryTimer = null;
    resting = false;
    setStatus('connecting');
    let sock;
    try {
      sock = new WebSocket(endpoint, 'hetki-chat.v1');
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = sock;
    sock.onopen = hello;
    sock.onmessage = (ev) => {
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (m && typeof m === 'object') {
        onFrame(m);
      }
    };
    sock.onclose = (ev) => {
      if (ws !== sock) {
        return;
      }
      ws = null;
      ready = false;
      inFlight = new Set();
      showTyping(false);
      if (ev.code === 1009 && st.pending.length) {
        failPending(st.pending[0].id, 'tooLong'); // can never go: do not loop on it
      }
      if (ev.code === 1008 && !st.pending.length) {
        resting = true; // idle timeout: no need to hold a connection for nothing
        setStatus('paused');
        return;
      }
      scheduleReconnect();
    };
  }

  function scheduleReconnect(afterMs) {
    if (retryTimer) {
      return;
    }
    const delay = afterMs ?? Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt = Math.min(attempt + 1, 10);
    setStatus('offline', { s: Math.max(1, Math.round(delay / 1000)) });
    retryTimer = setTimeout(() => {
      retryTimer = null;
      connect();
    }, delay);
  }

  /* The customer did something: connect now if we are resting or waiting to retry. */
  function wake() {
    if (!ws) {
      attempt = 0;
      connect();
    }
  }

  /* Sends pending messages in order: at most WINDOW unacked, RATE per 10 s. */
  function pump() {
    clearTimeout(pumpTimer);
    pumpTimer = null;
    if (!ready) {
      return;
    }
    const now = Date.now();
    sentTimes = sentTimes.filter((x) => now - x < 10000);
    for (const p of st.pending) {
      if (inFlight.size >= WINDOW) {
        break;
      }
      if (inFlight.has(p.id) || p.notBefore > now) {
        continue;
      }
      if (sentTimes.length >= RATE) {
        pumpTimer = setTimeout(pump, 10000 - (now - sentTimes[0]) + 20);
        return;
      }
      if (!send({ type: 'message', id: p.id, text: p.text })) {
        return;
      }
      inFlight.add(p.id);
      sentTimes.push(now);
    }
    const later = st.pending.filter((x) => !inFlight.has(x.id) && x.notBefore > now);
    if (later.length) {
      pumpTimer = setTimeout(pump, Math.min(...later.map((x) => x.notBefore)) - now + 10);
    }
  }

  function failPending(id, key, vars) {
    st.pending = st.pending.filter((p) => p.id !== id);
    inFlight.delete(id);
    persist();
    if (shown.has(id)) {
      setMsgState(shown.get(id), 'failed');
    }
    note(key, vars, 'hk-chat-error');
  }

  function retryLater(id, ms) {
    inFlight.delete(id);
    const p = st.pending.find((x) => x.id === id);
    if (p) {
      p.notBefore = Date.now() + ms;
      if (shown.has(id)) {
        setMsgState(shown.get(id), 'retrying');
      }
    }
    pump();
  }

  /* The agent has read up to id: our messages up to it are read. */
  function markRead(id) {
    const upTo = shown.get(id);
    if (!upTo) {
      return;
    }
    for (const li of ui.log.querySelectorAll('.hk-chat-msg-customer')) {
      if (li.dataset.state === 'sent') {
        setMsgState(li, 'read');
      }
      if (li === upTo) {
        break;
      }
    }
  }

  /* Tells the agent what the customer has seen, when the panel is open and visible. */
  function sendRead() {
    if (ready && lastAgentId && lastAgentId !== lastReadSent && !ui.panel.hidden &&
        document.visibilityState !== 'hidden' && send({ type: 'read', id: lastAgentId })) {
      lastReadSent = lastAgentId;
    }
  }

  function agentMessage(m, fromHistory) {
    agentName = m.name || agentName;
    if (!fromHistory) {
      send({ type: 'received', id: m.id }); // also for ids we have: it leaves the outbox
    }
    if (shown.has(m.id)) {
      return;
    }
    addMessage(m);
    lastAgentId = m.id;
    showTyping(false);
    if (!fromHistory && ui.panel.hidden) {
      unread += 1;
      ui.badge.textContent = String(unread);
      ui.badge.hidden = false;
      renderTexts();
      announce(fmt(t('newMessage'), { name: m.name || agentName || t('agent'), text: m.text }));
    }
    sendRead();
  }

  function onFrame(m) {
    switch (m.type) {
    case 'welcome':
      onWelcome(m);
      break;
    case 'ack':
      onAck(m);
      break;
    case 'message':
      if (m.from === 'agent' && typeof m.id === 'string') {
        agentMessage(m, false);
      }
      break;
    case 'agent':
      if (m.name) {
        agentName = m.name;
        note('joined', { name: m.name }, 'hk-chat-joined');
      }
      break;
    case 'typing':
      showTyping(m.from !== 'customer');
      break;
    case 'read':
      markRead(m.id);
      break;
    case 'resolution':
      askResolution(m.contact);
      break;
    case 'closed':
      onClosed(false);
      break;
    case 'error':
      onError(m);
      break;
    case 'reconnect':
      if (ws) { // draining: go elsewhere with the resume token
        const old = ws;
        ws = null;
        ready = false;
        inFlight = new Set();
        old.close(1000);
        attempt = 0;
        scheduleReconnect(Math.max(0, Number(m.after_ms) || 0));
      }
      break;
    default:
      break;
    }
  }

  function onWelcome(m) {
    ready = true;
    attempt = 0;
    if (m.session && st.session && m.session !== st.session) {
      // A new session (the old one expired): a fresh log; what is unsent stays.
      for (const [id, li] of shown) {
        if (!st.pending.some((p) => p.id === id)) {
          li.remove();
          shown.delete(id);
        }
      }
      st.reassure = null;
      st.contact = '';
      reassureEl?.remove();
      reassureEl = null;
    }
    st.session = m.session || st.session;
    st.resume = m.resume || st.resume;
    setStatus('online');
    for (const x of Array.isArray(m.history) ? m.history : []) {
      if (x && typeof x.id === 'string') {
        if (x.from === 'agent') {
          agentMessage(x, true);
        } else {
          addMessage(x, 'sent');
        }
      }
    }
    renderReassure();
    if (m.state === 'closed' && !st.pending.length) {
      onClosed(true);
    }
    if (st.person && (!st.contact || !st.personSent)) {
      st.personSent = send({ type: 'person' });
    }
    if (st.emailPending && st.email) {
      st.emailPending = !send({ type: 'email', address: st.email });
    }
    persist();
    pump();
    sendRead();
  }

  function onAck(m) {
    if (typeof m.id !== 'string') {
      return;
    }
    inFlight.delete(m.id);
    st.pending = st.pending.filter((p) => p.id !== m.id);
    st.contact = m.contact || st.contact;
    if (m.reassure && typeof m.reassure === 'object') {
      const r = m.reassure;
      st.reassure = { class: r.class, target: r.target, wait_s: r.wait_s, promise_s: r.promise_s,
        message: typeof r.message === 'string' ? r.message : '', contact: m.contact || '',
        after: m.id };
      reassureEl?.remove();
      reassureEl = null;
      renderReassure();
      announce(reassureLines(st.reassure).join(' '));
    }
    persist();
    const li = shown.get(m.id);
    if (li && li.dataset.state !== 'read') {
      setMsgState(li, 'sent');
    }
    pump();
  }

  function onError(m) {
    const id = typeof m.id === 'string' ? m.id : '';
    switch (m.code) {
    case 'too_long':
      if (id) {
        failPending(id, 'tooLong');
      }
      break;
    case 'rate':
      setStatus('rate');
      if (id) {
        retryLater(id, 3000);
      }
      break;
    case 'unavailable':
      if (id) {
        retryLater(id, 2000);
      }
      break;
    case 'refused':
      if (id) {
        failPending(id, 'refused', { text: m.text || '' });
      }
      break;
    case 'not_ready':
      hello();
      break;
    default:
      if (id && inFlight.has(id)) {
        retryLater(id, 5000);
      }
      break;
    }
  }

  function askResolution(contact) {
    const q = h('p', { class: 'hk-chat-resolution-q' }, t('resolution'));
    const yes = h('button', { class: 'hk-chat-yes', type: 'button' }, t('yes'));
    const no = h('button', { class: 'hk-chat-no', type: 'button' }, t('no'));
    const answer = (resolved) => {
      send({ type: 'confirm', resolved });
      yes.disabled = no.disabled = true;
      (resolved ? yes : no).setAttribute('aria-pressed', 'true');
      note(resolved ? 'thanksYes' : 'thanksNo');
    };
    yes.addEventListener('click', () => answer(true));
    no.addEventListener('click', () => answer(false));
    ui.log.append(h('li', { class: 'hk-chat-note hk-chat-resolution', 'data-contact': contact || '' },
      q, yes, no));
    notes.push([q, 'resolution'], [yes, 'yes'], [no, 'no']);
    scrollDown();
    announce(t('resolution'));
    if (!ui.panel.hidden) {
      yes.focus();
    }
  }

  function onClosed(quiet) {
    ui.panel.dataset.closed = 'true';
    st.contact = '';
    st.reassure = null;
    st.person = st.personSent = false;
    reassureEl = null; // the old one stays in the log; a new contact gets its own
    persist();
    showTyping(false);
    ui.log.querySelectorAll('.hk-chat-resolution button').forEach((b) => { b.disabled = true; });
    if (!quiet) {
      const c = note('closed', null, 'hk-chat-closed');
      note('closedNew');
      announce(c.textContent);
    }
  }

  /* ---- the customer's actions ---- */

  function submitMessage() {
    const text = ui.input.value.trim();
    if (!text) {
      return;
    }
    if (new TextEncoder().encode(text).length > MAX_TEXT) {
      note('tooLong', null, 'hk-chat-error');
      return;
    }
    const m = { id: newId(), text, at: Date.now() };
    st.pending.push(m);
    persist();
    delete ui.panel.dataset.closed;
    addMessage({ ...m, from: 'customer' }, 'sending');
    ui.input.value = '';
    wake();
    pump();
  }

  function askPerson() {
    st.person = true;
    st.personSent = ready && send({ type: 'person' });
    persist();
    const wrote = ui.log.querySelector('.hk-chat-msg-customer');
    note('personAsked', null, 'hk-chat-person-note');
    if (!wrote) {
      note('personFirst');
    }
    wake();
    ui.input.focus();
  }

  function setLang(l) {
    l = pickLang(l);
    if (!l || l === lang || !TEXTS) {
      return;
    }
    lang = st.lang = l;
    persist();
    renderTexts();
    send({ type: 'lang', lang: l });
  }

  function openPanel() {
    ui.panel.hidden = false;
    ui.launcher.hidden = true;
    ui.launcher.setAttribute('aria-expanded', 'true');
    st.open = true;
    persist();
    unread = 0;
    ui.badge.hidden = true;
    renderTexts();
    wake();
    sendRead();
    ui.input.focus();
  }

  function closePanel() {
    ui.panel.hidden = true;
    ui.launcher.hidden = false;
    ui.launcher.setAttribute('aria-expanded', 'false');
    st.open = false;
    persist();
    ui.launcher.focus();
  }

  function saveEmail(e) {
    e.preventDefault();
    const a = ui.emailInput.value.trim();
    if (!/^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/.test(a) || a.length > 254) {
      ui.emailNote.textContent = t('emailBad');
      ui.emailInput.setAttribute('aria-invalid', 'true');
      return;
    }
    ui.emailInput.removeAttribute('aria-invalid');
    st.email = a;
    st.emailPending = !(ready && send({ type: 'email', address: a }));
    persist();
    ui.emailNote.textContent = '';
    ui.emailForm.hidden = true;
    ui.emailToggle.setAttribute('aria-expanded', 'false');
    note('emailSaved', { a }, 'hk-chat-email-saved');
    wake();
  }

  function listen() {
    ui.launcher.addEventListener('click', openPanel);
    ui.close.addEventListener('click', closePanel);
    ui.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        closePanel();
      }
    });
    ui.person.addEventListener('click', askPerson);
    ui.langSelect.addEventListener('change', () => setLang(ui.langSelect.value));
    ui.compose.addEventListener('submit', (e) => {
      e.preventDefault();
      submitMessage();
    });
    ui.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        submitMessage();
      }
    });
    ui.input.addEventListener('input', () => {
      wake();
      const now = Date.now();
      if (ready && ui.input.value && now - lastTyping > TYPING_EVERY_MS) {
        lastTyping = now;
        send({ type: 'typing' });
      }
    });
    ui.emailToggle.addEventListener('click', () => {
      ui.emailForm.hidden = !ui.emailForm.hidden;
      ui.emailToggle.setAttribute('aria-expanded', String(!ui.emailForm.hidden));
      if (!ui.emailForm.hidden) {
        ui.emailInput.focus();
      }
    });
    ui.emailForm.addEventListener('submit', saveEmail);
    document.addEventListener('visibilitychange', sendRead);
    window.addEventListener('online', () => {
      clearTimeout(retryTimer);
      retryTimer = null;
      wake();
    });
  }

  /* ---- start: texts first, then the panel; a returning customer reconnects at once ---- */

  function start() {
    TEXTS = window.hetkiChatTexts;
    if (!TEXTS || !TEXTS[lang]) {
      console.error('hetki chat: the widget texts did not load');
      return;
    }
    build();
    listen();
    document.body.append(host);
    renderTexts();
    st.pending.forEach((p) => addMessage({ ...p, from: 'customer' }, 'sending'));
    if (st.open) {
      openPanel();
    }
    if (st.resume || st.pending.length) {
      connect(); // history, the outbox, and what is still unsent
    }
  }

  function loadTexts() {
    if (window.hetkiChatTexts) {
      start();
      return;
    }
    const s = h('script', { src: beside('widget-texts.js'), async: true });
    s.onload = start;
    s.onerror = () => console.error('hetki chat: cannot load widget-texts.js');
    document.head.append(s);
  }

  /* A small API for the page (and tests): open, close, language, the session's state. */
  window.hetkiChat = {
    open: () => TEXTS && openPanel(),
    close: () => TEXTS && closePanel(),
    setLang,
    state: () => ({ lang, tenant, endpoint, session: st.session, contact: st.contact,
      connected: ready, pending: st.pending.map((p) => p.id) }),
  };

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', loadTexts);
  } else {
    loadTexts();
  }
})();
