/* hetki dashboard: one contact an agent works on, side by side with the others: the channel's
 * own panel (chat log and composer, the phone call's state, the email and a reply composer),
 * the actions (propose resolution, transfer, wrap-up with "this contact was distressing") and
 * the customer card ("why this reached me", the customer, the cross-channel history).
 * Built once per contact and updated in place, so typing is never interrupted by live data. */
import { announce, h, reasonText, timeOf } from './dom.js';

const CHANNEL = { chat: 'Chat', phone: 'Phone call', email: 'Email', kiosk: 'Kiosk' };
const STATE_TEXT = {
  offered: 'Offered to you',
  assigned: 'In progress',
  resolution_proposed: 'Resolution proposed: waiting for the customer',
  closed: 'Closed: wrap up to finish',
};
const TYPING_EVERY_MS = 3000;
let uid = 0;

export function channelName(ch) {
  return CHANNEL[ch] || (ch ? ch[0].toUpperCase() + ch.slice(1) : 'Contact');
}

export function customerName(card) {
  const c = card.customer || {};
  return c.name || c.phone || c.email || (c.id ? `customer ${c.id.slice(-6)}` : 'customer');
}

/** The "why this reached me" block: class, score and each reason in words. */
export function whyBlock(card) {
  const reasons = card.reasons || [];
  return [
    h('p', { class: 'hk-why' },
      card.class ? h('span', { class: 'hk-badge', 'data-class': card.class }, card.class) : null,
      card.score !== undefined && card.score !== '' ? ` score ${card.score}` : '',
      card.queue ? ` · queue ${card.queue}` : ''),
    reasons.length
      ? h('ul', { class: 'hk-reasons' }, reasons.map((r) => h('li', { 'data-reason': r },
        reasonText(r))))
      : h('p', { class: 'hk-empty' }, 'No reasons recorded yet.'),
  ];
}

export class Workspace {
  /** ctx: {model, command(frame) -> Promise(ok frame), onWrapped(id)} */
  constructor(card, ctx) {
    this.id = card.id;
    this.ctx = ctx;
    this.n = ++uid;
    this.shown = new Set(); // message ids in the log
    this.lastTyping = 0;
    this.build(card);
    this.update(card);
  }

  build(card) {
    const n = this.n;
    const ui = {};
    this.ui = ui;
    ui.title = h('h3', { id: `hk-ws-title-${n}` });
    ui.badge = h('span', { class: 'hk-badge' });
    ui.state = h('span', { class: 'hk-ws-state', 'data-role': 'state' });
    ui.panel = h('div', { class: 'hk-ws-panel' });
    ui.banner = h('p', { class: 'hk-banner', role: 'status', hidden: true });
    ui.error = h('p', { class: 'hk-error', role: 'alert' });
    ui.propose = h('button', { type: 'button', class: 'hk-btn', 'data-focus-key': 'propose',
      on: { click: () => this.run({ type: 'propose', contact: this.id }, ui.propose,
        'Resolution proposed: the customer is asked to confirm.') } },
    'Propose resolution');

    ui.target = h('select', { id: `hk-tr-target-${n}` });
    ui.note = h('input', { id: `hk-tr-note-${n}`, maxLength: 1024, autocomplete: 'off' });
    ui.transfer = h('button', { type: 'submit', class: 'hk-btn' }, 'Transfer');
    ui.transferForm = h('form', { class: 'hk-transfer', on: { submit: (e) => {
      e.preventDefault();
      this.transfer();
    } } }, h('fieldset', {}, h('legend', {}, 'Transfer'),
      h('div', { class: 'hk-field' }, h('label', { for: ui.target.id }, 'To'), ui.target),
      h('div', { class: 'hk-field' }, h('label', { for: ui.note.id }, 'Note for the next person'),
        ui.note),
      ui.transfer));

    ui.code = h('select', { id: `hk-wu-code-${n}` });
    ui.distress = h('input', { type: 'checkbox', id: `hk-wu-distress-${n}` });
    ui.wrap = h('button', { type: 'submit', class: 'hk-btn hk-btn-primary' }, 'Wrap up');
    ui.wrapForm = h('form', { class: 'hk-wrapup', on: { submit: (e) => {
      e.preventDefault();
      this.wrapup();
    } } }, h('fieldset', {}, h('legend', {}, 'Wrap-up'),
      h('div', { class: 'hk-field' }, h('label', { for: ui.code.id }, 'Wrap-up code'), ui.code),
      h('label', { class: 'hk-check', for: ui.distress.id }, ui.distress,
        ' This contact was distressing (take a recovery pause)'),
      ui.wrap));

    ui.why = h('div', { class: 'hk-why-block' });
    ui.customer = h('dl', { class: 'hk-cust' });
    ui.history = h('ol', { class: 'hk-history' });
    ui.card = h('aside', { class: 'hk-custcard', 'aria-label': 'Customer card' },
      h('h4', {}, 'Why this reached me'), ui.why,
      h('h4', {}, 'Customer'), ui.customer,
      h('h4', {}, 'History across channels'), ui.history);

    this.el = h('article', { class: 'hk-card hk-ws', 'data-contact': this.id,
      'aria-labelledby': ui.title.id },
    h('div', { class: 'hk-ws-head' }, ui.title, ui.badge, ui.state),
    h('div', { class: 'hk-ws-main' }, ui.panel, ui.banner,
      h('div', { class: 'hk-actions' }, h('div', { class: 'hk-row' }, ui.propose), ui.transferForm,
        ui.wrapForm, ui.error)),
    ui.card);
    this.channel = '';
  }

  /** The channel's own panel, (re)built when the channel becomes known. */
  buildPanel(card) {
    const ui = this.ui;
    const n = this.n;
    this.channel = card.channel || 'other';
    ui.log = null;
    ui.phoneState = null;
    const kids = [];
    if (this.channel === 'chat' || this.channel === 'email') {
      if (this.channel === 'email') {
        kids.push(h('p', { class: 'hk-email-subject' }, h('strong', {}, 'Subject: '),
          card.subject || '(none)'));
      }
      ui.log = h('ol', { class: 'hk-chat-log', role: 'log', 'aria-live': 'polite',
        'aria-relevant': 'additions', tabIndex: 0,
        'aria-label': this.channel === 'chat' ? 'Conversation' : 'Email thread' });
      ui.typing = h('p', { class: 'hk-typing', 'aria-live': 'off' });
      ui.input = h('textarea', { id: `hk-say-${n}`, rows: 2, maxLength: 4096,
        'data-focus-key': 'say', class: 'hk-say' });
      ui.send = h('button', { type: 'submit', class: 'hk-btn hk-btn-primary' },
        this.channel === 'chat' ? 'Send' : 'Send reply');
      ui.input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && !e.shiftKey && this.channel === 'chat') {
          e.preventDefault();
          this.say();
        }
      });
      ui.input.addEventListener('input', () => this.typingPing());
      kids.push(ui.log, ui.typing, h('form', { class: 'hk-compose', on: { submit: (e) => {
        e.preventDefault();
        this.say();
      } } }, h('label', { class: 'hk-sr', for: ui.input.id },
        this.channel === 'chat' ? 'Message to the customer' : 'Reply to the customer'),
      ui.input, ui.send));
      if (this.channel === 'email') {
        // Replies go out through the email channel's service; until one runs, the reply
        // stays a draft here rather than being stored where no customer would get it.
        ui.input.setAttribute('aria-describedby', `hk-mail-note-${n}`);
        kids.push(h('p', { class: 'hk-empty', id: `hk-mail-note-${n}` },
          'Sending email replies needs the email channel, which is not running here yet: ' +
          'your draft stays in this box.'));
      }
      this.shown.clear();
      if (this.channel === 'email' && card.text) {
        this.appendMessage({ id: `${card.id}:mail`, from: 'customer', text: card.text,
          at: card.received_at });
      }
    } else if (this.channel === 'phone') {
      ui.phoneState = h('p', { class: 'hk-phone-state', 'aria-live': 'polite' });
      ui.caller = h('p', {});
      kids.push(h('div', { class: 'hk-phone' }, ui.caller, ui.phoneState,
        h('p', { class: 'hk-empty' }, 'The audio is on your SIP phone.')));
    } else {
      kids.push(h('p', { class: 'hk-excerpt' }, card.text || ''));
    }
    ui.panel.replaceChildren(...kids);
  }

  update(card) {
    const ui = this.ui;
    if ((card.channel || 'other') !== this.channel) {
      this.buildPanel(card);
    }
    this.card = card;
    this.el.dataset.state = card.state || '';
    ui.title.textContent = `${channelName(card.channel)} with ${customerName(card)}`;
    ui.badge.textContent = card.class || '';
    ui.badge.dataset.class = card.class || '';
    ui.badge.hidden = !card.class;
    ui.state.textContent = STATE_TEXT[card.state] || card.state || '';

    if (ui.log) {
      const conv = card.conversation || [];
      for (const m of conv) {
        this.appendMessage(m);
      }
      if (this.channel === 'chat' && !conv.length && card.text && !ui.firstText) {
        // A chat contact whose conversation is not stored (submitted by other means): show
        // what it said until real messages come.
        ui.firstText = h('li', { class: 'hk-msg hk-msg-customer hk-msg-first' },
          h('span', { class: 'hk-msg-meta' }, `${customerName(card)} · ${timeOf(card.received_at)}`),
          h('span', { class: 'hk-msg-text' }, String(card.text)));
        ui.log.append(ui.firstText);
      } else if (conv.length && ui.firstText) {
        ui.firstText.remove();
        ui.firstText = null;
      }
    }
    if (ui.phoneState) {
      const call = card.call || {};
      ui.caller.textContent = `Caller: ${card.customer?.phone || call.from || 'unknown number'}`;
      ui.phoneState.textContent = `Call: ${String(call.state || 'not connected yet')
        .replace(/_/g, ' ')}`;
    }

    if (ui.input) {
      const open = card.state === 'assigned' || card.state === 'resolution_proposed';
      ui.input.disabled = !open;
      ui.send.disabled = !open || this.channel === 'email';
    }
    const held = card.state === 'assigned';
    ui.propose.disabled = !held;
    ui.transfer.disabled = !held;
    ui.target.disabled = !held;
    const wrappable = card.state === 'resolution_proposed' || card.state === 'closed';
    ui.wrap.disabled = !wrappable;
    if (card.state === 'resolution_proposed') {
      ui.banner.hidden = false;
      ui.banner.className = 'hk-banner';
      ui.banner.textContent = 'Waiting for the customer to confirm the resolution' +
        (card.confirm_until ? ` (until ${timeOf(card.confirm_until)})` : '') +
        '. You can wrap up now.';
    } else if (card.state === 'closed') {
      ui.banner.hidden = false;
      ui.banner.className = 'hk-banner hk-banner-ok';
      ui.banner.textContent = card.closed_reason === 'confirmation_window_passed'
        ? 'Closed: the confirmation window passed.' : 'The customer confirmed: resolved.';
    } else if (card.reopened && held) {
      ui.banner.hidden = false;
      ui.banner.className = 'hk-banner';
      ui.banner.textContent = 'The customer said it is not resolved yet.';
    } else {
      ui.banner.hidden = true;
    }
    this.fillTargets();
    this.fillCodes();
    this.fillCard(card);
  }

  fillTargets() {
    const { model } = this.ctx;
    const sel = this.ui.target;
    const keep = sel.value;
    const queues = model.queues.map((q) => q.name).filter(Boolean);
    const agents = model.agents.filter((a) => a.id !== model.me?.id &&
      (a.state === 'available' || a.state === 'busy'));
    const sig = JSON.stringify([queues, agents.map((a) => [a.id, a.name])]);
    if (sig === this.targetSig) {
      return;
    }
    this.targetSig = sig;
    sel.replaceChildren(
      h('option', { value: '' }, 'Choose where'),
      h('optgroup', { label: 'Queues' },
        queues.map((q) => h('option', { value: `queue:${q}` }, `Queue ${q}`))),
      h('optgroup', { label: 'Agents' },
        agents.map((a) => h('option', { value: `agent:${a.id}` }, a.name || a.id))));
    sel.value = keep;
  }

  fillCodes() {
    const codes = this.ctx.model.wrapCodes.length ? this.ctx.model.wrapCodes
      : ['resolved', 'info_given', 'other'];
    const sig = codes.join(',');
    if (sig === this.codeSig) {
      return;
    }
    this.codeSig = sig;
    const keep = this.ui.code.value;
    this.ui.code.replaceChildren(...codes.map((c) => h('option', { value: c },
      c.replace(/_/g, ' '))));
    this.ui.code.value = codes.includes(keep) ? keep : codes[0];
  }

  fillCard(card) {
    const ui = this.ui;
    const sig = JSON.stringify([card.class, card.score, card.reasons, card.customer,
      card.history]);
    if (sig === this.cardSig) {
      return;
    }
    this.cardSig = sig;
    ui.why.replaceChildren(...whyBlock(card));
    const c = card.customer || {};
    const rows = [['Name', c.name], ['Phone', c.phone], ['Email', c.email],
      ['Flags', [c.vulnerable ? 'vulnerable' : '', c.vip ? 'VIP' : ''].filter(Boolean)
        .join(', ')]].filter(([, v]) => v);
    ui.customer.replaceChildren(...(rows.length ? rows.flatMap(([k, v]) => [h('dt', {}, k),
      h('dd', {}, String(v))]) : [h('dd', { class: 'hk-empty' }, 'No details known.')]));
    const hist = card.history || [];
    ui.history.replaceChildren(...(hist.length ? hist.map((x) => h('li', { 'data-contact': x.id },
      h('strong', {}, `${channelName(x.channel)}`), ` · ${timeOf(x.at)} · `,
      x.class ? h('span', { class: 'hk-badge', 'data-class': x.class }, x.class) : null,
      ` ${x.state || ''}`, x.excerpt ? h('div', { class: 'hk-excerpt' }, x.excerpt) : null))
      : [h('li', { class: 'hk-empty' }, 'No earlier contacts.')]));
  }

  appendMessage(m) {
    if (!this.ui.log || !m || !m.id) {
      return;
    }
    const existing = this.ui.log.querySelector(`[data-id="${CSS.escape(m.id)}"]`);
    if (existing) {
      existing.dataset.state = m.sending ? 'sending' : 'sent';
      return;
    }
    this.shown.add(m.id);
    if (this.ui.firstText) {
      this.ui.firstText.remove();
      this.ui.firstText = null;
    }
    const who = m.from === 'agent' ? (m.name || 'You') : customerName(this.card || {});
    const kind = m.from === 'agent' ? 'agent' : 'customer';
    const li = h('li', { class: `hk-msg hk-msg-${kind}`, 'data-id': m.id,
      'data-from': kind, 'data-state': m.sending ? 'sending' : 'sent' },
    h('span', { class: 'hk-msg-meta' }, `${who} · ${timeOf(m.at)}`),
    h('span', { class: 'hk-msg-text' }, String(m.text || '')));
    this.ui.log.append(li);
    this.ui.log.scrollTop = this.ui.log.scrollHeight;
    if (this.ui.typing && kind === 'customer') {
      this.ui.typing.textContent = '';
    }
  }

  setTyping(on) {
    if (this.ui.typing) {
      this.ui.typing.textContent = on ? `${customerName(this.card || {})} is typing…` : '';
    }
  }

  typingPing() {
    const now = Date.now();
    if (this.channel === 'chat' && now - this.lastTyping > TYPING_EVERY_MS) {
      this.lastTyping = now;
      this.ctx.send({ type: 'typing', contact: this.id });
    }
  }

  async say() {
    const text = this.ui.input.value.trim();
    if (!text || this.channel !== 'chat') {
      return;
    }
    const id = `d${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const msg = { id, from: 'agent', name: this.ctx.model.me?.name || 'You', text,
      at: Date.now(), sending: true };
    this.card.conversation.push(msg);
    this.appendMessage(msg);
    this.ui.input.value = '';
    try {
      await this.ctx.command({ type: 'say', contact: this.id, text, id });
      msg.sending = false;
      this.appendMessage(msg);
      this.ui.error.textContent = '';
    } catch (err) {
      this.ui.log.querySelector(`[data-id="${CSS.escape(id)}"]`)?.remove();
      this.card.conversation = this.card.conversation.filter((m) => m.id !== id);
      this.ui.input.value = text;
      this.ui.error.textContent = `Not sent: ${err.text || err.code}`;
    }
  }

  transfer() {
    const v = this.ui.target.value;
    if (!v) {
      this.ui.error.textContent = 'Choose a queue or an agent to transfer to.';
      this.ui.target.focus();
      return;
    }
    const [kind, ...rest] = v.split(':');
    const to = rest.join(':');
    const frame = { type: 'transfer', contact: this.id, note: this.ui.note.value };
    frame[kind === 'queue' ? 'to_queue' : 'to_agent'] = to;
    this.run(frame, this.ui.transfer, `Transferred to ${to}.`);
  }

  wrapup() {
    const distressing = this.ui.distress.checked;
    this.run({ type: 'wrapup', contact: this.id, code: this.ui.code.value, distressing },
      this.ui.wrap, distressing ? 'Wrapped up. Take your recovery pause.' : 'Wrapped up.');
  }

  async run(frame, button, done) {
    button.disabled = true;
    this.ui.error.textContent = '';
    try {
      await this.ctx.command(frame);
      announce(done);
    } catch (err) {
      this.ui.error.textContent = `${err.text || err.code}`;
      button.disabled = false;
    }
  }

  /** Focus for the keyboard after accepting: the composer, else the first action. */
  focus() {
    (this.ui.input || this.ui.propose).focus();
  }
}
