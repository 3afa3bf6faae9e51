/* hetki dashboard: the agent's view. The state bar (available, pause with a reason, sign off,
 * time in state, the recovery pause), incoming offers with accept/decline and the lease
 * countdown, and the contacts in progress side by side (workspace.js). New offers and
 * messages are announced through aria-live regions; focus stays where the agent left it. */
import { announce, clock, h, replaceKids, timeOf } from './dom.js';
import { Workspace, channelName, customerName, whyBlock } from './workspace.js';

const PAUSE_REASONS = [['break', 'Break'], ['lunch', 'Lunch'], ['meeting', 'Meeting'],
  ['training', 'Training'], ['admin', 'Admin work']];
const STATE_WORDS = {
  available: 'Available', busy: 'Busy', wrap_up: 'Wrap-up', paused: 'Paused',
  not_responding: 'Not responding', offline: 'Offline',
};

export class AgentView {
  /** ctx: {model, command(frame) -> Promise, send(frame)} */
  constructor(ctx) {
    this.ctx = ctx;
    this.model = ctx.model;
    this.root = document.getElementById('hk-agent');
    this.bar = document.getElementById('hk-statebar');
    this.offerList = document.getElementById('hk-offer-list');
    this.offersEmpty = document.getElementById('hk-offers-empty');
    this.grid = document.getElementById('hk-work-grid');
    this.workEmpty = document.getElementById('hk-work-empty');
    this.offers = new Map(); // id -> {el, count, bar, ...}
    this.spaces = new Map(); // id -> Workspace
    this.buildBar();
    this.model.onChange((what, d) => this.changed(what, d));
    this.tick = setInterval(() => this.everySecond(), 250);
  }

  buildBar() {
    const ui = {};
    this.barUi = ui;
    ui.state = h('span', { class: 'hk-state', id: 'hk-my-state' });
    ui.since = h('span', { class: 'hk-since' });
    ui.note = h('span', { class: 'hk-note' });
    ui.available = h('button', { type: 'button', class: 'hk-btn hk-btn-ok',
      'data-focus-key': 'available', on: { click: () => this.setState({ type: 'available' },
        ui.available) } }, 'Go available');
    ui.reason = h('select', { id: 'hk-pause-reason' },
      PAUSE_REASONS.map(([v, t]) => h('option', { value: v }, t)));
    ui.pause = h('button', { type: 'submit', class: 'hk-btn' }, 'Pause');
    ui.offline = h('button', { type: 'button', class: 'hk-btn hk-btn-bad',
      on: { click: () => this.setState({ type: 'offline' }, ui.offline) } }, 'Go offline');
    ui.error = h('p', { class: 'hk-error', role: 'alert' });
    const pauseForm = h('form', { class: 'hk-row', on: { submit: (e) => {
      e.preventDefault();
      this.setState({ type: 'pause', reason: ui.reason.value }, ui.pause);
    } } }, h('label', { for: ui.reason.id }, 'Pause reason'), ui.reason, ui.pause);
    this.bar.replaceChildren(
      h('div', {}, h('span', { class: 'hk-label' }, 'Your state: '), ui.state, ' ', ui.since,
        h('div', {}, ui.note)),
      ui.available, pauseForm, ui.offline, ui.error);
  }

  async setState(frame, button) {
    this.barUi.error.textContent = '';
    button.disabled = true;
    try {
      await this.ctx.command(frame);
    } catch (err) {
      this.barUi.error.textContent = err.text || err.code;
    }
    button.disabled = false;
    this.renderBar();
  }

  renderBar() {
    const me = this.model.me;
    const ui = this.barUi;
    if (!me) {
      ui.state.textContent = 'unknown';
      return;
    }
    ui.state.textContent = STATE_WORDS[me.state] || me.state;
    ui.state.dataset.state = me.state;
    this.bar.dataset.state = me.state;
    const recovery = me.state === 'paused' && me.reason === 'recovery';
    if (recovery) {
      ui.note.textContent = 'Recovery pause after a distressing contact' +
        (me.until ? ` until ${timeOf(me.until)}` : '') + '. Take a moment; you will be ' +
        'made available when it ends.';
    } else if (me.state === 'paused') {
      ui.note.textContent = `Reason: ${me.reason || 'break'}`;
    } else if (me.state === 'not_responding') {
      ui.note.textContent = 'Offers timed out: you get no offers until you go available.';
    } else {
      ui.note.textContent = '';
    }
    ui.available.disabled = ['available', 'busy', 'wrap_up'].includes(me.state) || recovery;
    ui.pause.disabled = me.state === 'offline';
    ui.offline.disabled = me.state === 'offline';
    this.renderSince();
  }

  renderSince() {
    const me = this.model.me;
    if (me && me.since) {
      this.barUi.since.textContent = `for ${clock(this.model.now() - Number(me.since))}`;
    } else {
      this.barUi.since.textContent = '';
    }
  }

  changed(what, d) {
    if (what === 'all') {
      this.renderBar();
      this.syncContacts();
    } else if (what === 'me') {
      this.renderBar();
    } else if (what === 'contact') {
      this.syncContacts(d);
    } else if (what === 'message') {
      const ws = this.spaces.get(d.id);
      if (ws && d.message && !d.note) {
        ws.appendMessage(d.message); // the log is a polite live region: read out as it comes
      }
    } else if (what === 'typing') {
      this.spaces.get(d.id)?.setTyping(true);
    } else if (what === 'stats' || what === 'agents') {
      for (const ws of this.spaces.values()) {
        ws.fillTargets();
      }
    }
  }

  /** Brings offers and workspaces in line with the model's contacts. */
  syncContacts(d) {
    const contacts = this.model.contacts;
    for (const [id, o] of this.offers) {
      const c = contacts.get(id);
      if (!c || c.state !== 'offered') {
        this.removeOffer(id, o);
      }
    }
    for (const [id, ws] of this.spaces) {
      const c = contacts.get(id);
      if (!c || c.state === 'offered') {
        const hadFocus = ws.el.contains(document.activeElement);
        ws.el.remove();
        this.spaces.delete(id);
        if (hadFocus) {
          document.getElementById('hk-work-title').focus();
        }
      }
    }
    for (const [id, c] of contacts) {
      if (c.state === 'offered') {
        const o = this.offers.get(id);
        if (o) {
          this.fillOffer(o, c);
        } else {
          this.addOffer(c);
        }
      } else {
        const ws = this.spaces.get(id);
        if (ws) {
          ws.update(c);
        } else {
          const fresh = new Workspace(c, this.ctx);
          this.spaces.set(id, fresh);
          this.grid.append(fresh.el);
          if (d && d.id === id && this.accepting === id) {
            this.accepting = null;
            fresh.focus();
          }
        }
      }
    }
    this.offersEmpty.hidden = this.offers.size > 0;
    this.workEmpty.hidden = this.spaces.size > 0;
  }

  addOffer(c) {
    const o = { id: c.id };
    o.title = h('h3', { id: `hk-offer-title-${c.id}` });
    o.badge = h('span', { class: 'hk-badge' });
    o.count = h('span', { class: 'hk-countdown', 'aria-hidden': 'true' });
    o.fill = h('span', {});
    o.body = h('div', {});
    o.error = h('p', { class: 'hk-error', role: 'alert' });
    o.accept = h('button', { type: 'button', class: 'hk-btn hk-btn-primary',
      'data-focus-key': `accept-${c.id}`, on: { click: () => this.reply(o, 'accept') } },
    'Accept');
    o.decline = h('button', { type: 'button', class: 'hk-btn',
      on: { click: () => this.reply(o, 'decline') } }, 'Decline');
    o.el = h('li', { class: 'hk-card hk-offer', 'data-contact': c.id,
      'aria-labelledby': o.title.id },
    h('div', { class: 'hk-offer-head' }, o.title, o.badge, o.count),
    h('div', { class: 'hk-lease', 'aria-hidden': 'true' }, o.fill),
    o.body, h('div', { class: 'hk-row' }, o.accept, o.decline), o.error);
    this.offers.set(c.id, o);
    this.offerList.append(o.el);
    this.fillOffer(o, c);
    const left = Math.max(0, Math.round((Number(c.offer_until) - this.model.now()) / 1000));
    announce(`New ${channelName(c.channel).toLowerCase()} offer` +
      (c.class ? `, ${c.class}` : '') + (left ? `: ${left} seconds to accept.` : '.'), true);
  }

  fillOffer(o, c) {
    o.card = c;
    o.title.textContent = `${channelName(c.channel)} offer`;
    o.badge.textContent = c.class || '';
    o.badge.dataset.class = c.class || '';
    o.badge.hidden = !c.class;
    if (!o.started && c.offer_until) {
      o.started = this.model.now();
    }
    const sig = JSON.stringify([c.text, c.subject, c.reasons, c.customer, c.history]);
    if (sig !== o.sig) {
      o.sig = sig;
      const hist = c.history || [];
      replaceKids(o.body,
        c.subject ? h('p', { class: 'hk-excerpt' }, h('strong', {}, c.subject)) : null,
        h('p', { class: 'hk-excerpt' }, String(c.text || '').slice(0, 300)),
        h('p', { class: 'hk-offer-who' }, `From ${customerName(c)} · `,
          hist.length ? `${hist.length} earlier contact${hist.length > 1 ? 's' : ''}`
            : 'no earlier contacts'),
        h('details', { class: 'hk-why-details' }, h('summary', {}, 'Why this reached me'),
          ...whyBlock(c)));
    }
    this.countdown(o);
  }

  countdown(o) {
    const until = Number(o.card.offer_until) || 0;
    if (!until) {
      o.count.textContent = '';
      return;
    }
    const left = Math.max(0, until - this.model.now());
    o.count.textContent = clock(left + 999);
    o.count.dataset.low = left < 5000 ? '1' : '0';
    const total = Math.max(1000, until - (o.started || until - 20000));
    o.fill.style.width = `${Math.min(100, (left / total) * 100)}%`;
    o.accept.setAttribute('aria-label', `Accept (${Math.ceil(left / 1000)} s left)`);
  }

  async reply(o, type) {
    o.accept.disabled = true;
    o.decline.disabled = true;
    o.error.textContent = '';
    if (type === 'accept') {
      this.accepting = o.id;
    }
    try {
      await this.ctx.command({ type, contact: o.id });
      if (type === 'accept') {
        announce('Accepted.');
        // The ok says assigned; the card push follows with the conversation.
        const ws = this.spaces.get(o.id);
        if (ws) {
          this.accepting = null;
          ws.focus();
        }
      } else {
        announce('Declined.');
      }
    } catch (err) {
      this.accepting = null;
      o.error.textContent = err.text || err.code;
      o.accept.disabled = false;
      o.decline.disabled = false;
    }
  }

  removeOffer(id, o) {
    const hadFocus = o.el.contains(document.activeElement);
    o.el.remove();
    this.offers.delete(id);
    if (hadFocus && this.accepting !== id) {
      document.getElementById('hk-offers-title').focus();
    }
  }

  everySecond() {
    if (this.root.hidden) {
      return;
    }
    this.renderSince();
    for (const o of this.offers.values()) {
      this.countdown(o);
    }
    const now = Date.now();
    for (const [id, at] of this.model.typing) {
      if (now - at > 5000) {
        this.model.typing.delete(id);
        this.spaces.get(id)?.setTyping(false);
      }
    }
  }

  clear() {
    this.offers.forEach((o) => o.el.remove());
    this.offers.clear();
    this.spaces.forEach((w) => w.el.remove());
    this.spaces.clear();
  }
}
