/* hetki dashboard: the supervisor's view. Live queues (waiting, oldest, estimated wait,
 * service level), agents (state, load, time in state), pending callbacks, the feed of
 * critical moments (with the contact's card on request) and the tenant's suspension switch. */
import { ago, announce, h, replaceKids, timeOf } from './dom.js';
import { channelName, customerName, whyBlock } from './workspace.js';

const STATE_WORDS = {
  available: 'Available', busy: 'Busy', wrap_up: 'Wrap-up', paused: 'Paused',
  not_responding: 'Not responding', offline: 'Offline',
};
const CRITICAL_WORDS = {
  repeat_contact: 'Repeat contact',
  callback_broken: 'Callback promise broken',
  followup_unhappy: 'Unhappy follow-up answer',
};

export class SupervisorView {
  /** ctx: {model, command(frame) -> Promise} */
  constructor(ctx) {
    this.ctx = ctx;
    this.model = ctx.model;
    this.root = document.getElementById('hk-super');
    this.tenantEl = document.getElementById('hk-tenant');
    this.queuesEl = document.getElementById('hk-queues');
    this.agentsEl = document.getElementById('hk-agents');
    this.callbacksEl = document.getElementById('hk-callbacks');
    this.feedEl = document.getElementById('hk-critical');
    this.buildTenant();
    this.model.onChange((what, d) => this.changed(what, d));
    setInterval(() => {
      if (!this.root.hidden) {
        this.times();
      }
    }, 1000);
  }

  buildTenant() {
    const ui = {};
    this.tui = ui;
    ui.name = h('h2', { class: 'hk-h2', id: 'hk-tenant-name' });
    ui.switch = h('button', { type: 'button', class: 'hk-switch', role: 'switch',
      id: 'hk-suspend', 'aria-checked': 'false', 'data-focus-key': 'suspend',
      on: { click: () => this.toggle() } },
    h('span', { class: 'hk-switch-knob', 'aria-hidden': 'true' }), 'Tenant suspended');
    ui.confirm = h('button', { type: 'button', class: 'hk-btn hk-btn-bad', hidden: true,
      on: { click: () => this.setStatus('suspended') } }, 'Yes, suspend new contacts');
    ui.cancel = h('button', { type: 'button', class: 'hk-btn', hidden: true,
      on: { click: () => this.askDone() } }, 'Cancel');
    ui.note = h('p', { class: 'hk-note', id: 'hk-tenant-note' });
    ui.error = h('p', { class: 'hk-error', role: 'alert' });
    this.tenantEl.replaceChildren(ui.name, ui.switch, ui.confirm, ui.cancel, ui.note, ui.error);
  }

  toggle() {
    if (this.model.tenant.status === 'suspended') {
      this.setStatus('active');
      return;
    }
    this.tui.confirm.hidden = false;
    this.tui.cancel.hidden = false;
    this.tui.note.textContent = 'Suspending holds every new contact (customers get the ' +
      'polite message; nothing is lost). Agents keep working on what they have.';
    this.tui.confirm.focus();
  }

  askDone() {
    this.tui.confirm.hidden = true;
    this.tui.cancel.hidden = true;
    this.renderTenant();
    this.tui.switch.focus();
  }

  async setStatus(status) {
    this.tui.error.textContent = '';
    try {
      const ok = await this.ctx.command({ type: 'tenant', status });
      this.model.tenant.status = ok.status || status;
      announce(status === 'suspended' ? 'The tenant is suspended.' : 'The tenant is active.');
    } catch (err) {
      this.tui.error.textContent = err.text || err.code;
    }
    this.askDone();
  }

  renderTenant() {
    const s = this.model.tenant.status === 'suspended';
    this.tui.name.textContent = `Tenant ${this.model.tenant.name}`;
    this.tui.switch.setAttribute('aria-checked', s ? 'true' : 'false');
    this.tenantEl.dataset.status = this.model.tenant.status;
    if (this.tui.confirm.hidden) {
      this.tui.note.textContent = s
        ? 'New contacts are held and answered with the polite message.'
        : 'Active: new contacts are routed.';
    }
  }

  renderQueues() {
    const qs = this.model.queues;
    if (!qs.length) {
      replaceKids(this.queuesEl, h('p', { class: 'hk-empty' }, 'No queues.'));
      return;
    }
    const now = this.model.now();
    replaceKids(this.queuesEl, h('table', { class: 'hk-table' },
      h('caption', { class: 'hk-sr' }, 'Queues'),
      h('thead', {}, h('tr', {}, ['Queue', 'Waiting', 'Oldest', 'Est. wait', 'Service level',
        'Staff'].map((t, i) => h('th', { scope: 'col', class: i > 0 ? 'hk-num' : '' }, t)))),
      h('tbody', {}, qs.map((q) => h('tr', { 'data-queue': q.name },
        h('th', { scope: 'row' }, q.name),
        h('td', { class: 'hk-num', 'data-col': 'waiting' }, String(q.waiting ?? 0)),
        h('td', { class: 'hk-num', 'data-col': 'oldest', 'data-since': q.oldest_ms || 0 },
          Number(q.oldest_ms) ? ago(now - Number(q.oldest_ms)) : '–'),
        h('td', { class: 'hk-num', 'data-col': 'est' },
          q.est_wait_s !== undefined && q.est_wait_s !== null ? ago(q.est_wait_s * 1000) : '–'),
        h('td', { class: 'hk-num', 'data-col': 'sl' },
          q.service_level === null || q.service_level === undefined ? '–'
            : `${Math.round(q.service_level)} %`),
        h('td', { class: 'hk-num', 'data-col': 'staff' }, String(q.staff ?? 0)))))));
  }

  renderAgents() {
    const as = [...this.model.agents].sort((a, b) => String(a.id).localeCompare(String(b.id)));
    if (!as.length) {
      replaceKids(this.agentsEl, h('p', { class: 'hk-empty' }, 'No agents.'));
      return;
    }
    const now = this.model.now();
    replaceKids(this.agentsEl, h('table', { class: 'hk-table' },
      h('caption', { class: 'hk-sr' }, 'Agents'),
      h('thead', {}, h('tr', {}, ['Agent', 'State', 'Load', 'In state', 'Note']
        .map((t, i) => h('th', { scope: 'col', class: i === 2 || i === 3 ? 'hk-num' : '' }, t)))),
      h('tbody', {}, as.map((a) => h('tr', { 'data-agent': a.id, 'data-state': a.state },
        h('th', { scope: 'row' }, a.name && a.name !== a.id ? `${a.name} (${a.id})` : a.id),
        h('td', { 'data-col': 'state' }, h('span', { class: 'hk-state', 'data-state': a.state },
          STATE_WORDS[a.state] || a.state || '')),
        h('td', { class: 'hk-num', 'data-col': 'load' },
          a.capacity ? `${Math.round((100 * (a.load || 0)) / a.capacity)} %` : '–'),
        h('td', { class: 'hk-num', 'data-col': 'since', 'data-since': a.since || 0 },
          Number(a.since) ? ago(now - Number(a.since)) : '–'),
        h('td', { 'data-col': 'note' }, [a.reason ? `reason: ${a.reason}` : '',
          a.holding ? `holding ${Array.isArray(a.holding) ? a.holding.length : a.holding}` : '']
          .filter(Boolean).join(' · ')))))));
  }

  renderCallbacks() {
    const n = this.model.callbacks;
    replaceKids(this.callbacksEl, h('p', { class: 'hk-big', 'data-col': 'callbacks' },
      h('strong', {}, String(n)), n === 1 ? ' callback promise pending' : ' callback promises pending'));
  }

  criticalItem(c) {
    const contact = c.contact || '';
    let detail = typeof c.detail === 'object' ? JSON.stringify(c.detail) : String(c.detail || '');
    detail = detail.replace(/customer=(\S+)/, (m, id) => `customer ${id.slice(-6)}`);
    const li = h('li', { 'data-kind': c.kind, 'data-contact': contact },
      h('strong', {}, CRITICAL_WORDS[c.kind] || String(c.kind).replace(/_/g, ' ')),
      ` · ${timeOf(c.at)}`, detail ? ` · ${detail}` : '', ' ');
    if (contact) {
      const out = h('div', { class: 'hk-crit-card' });
      li.append(h('button', { type: 'button', class: 'hk-btn', 'aria-expanded': 'false',
        on: { click: (e) => this.showCard(contact, out, e.currentTarget) } },
      `Contact ${contact.slice(-6)}`), out);
    }
    return li;
  }

  async showCard(contact, out, btn) {
    if (btn.getAttribute('aria-expanded') === 'true') {
      out.replaceChildren();
      btn.setAttribute('aria-expanded', 'false');
      return;
    }
    try {
      const f = await this.ctx.command({ type: 'contact', contact });
      const c = this.model.normal(f.contact || {});
      out.replaceChildren(h('p', {}, `${channelName(c.channel)} from ${customerName(c)} · ` +
        `${c.state || ''}`), ...whyBlock(c));
    } catch (err) {
      out.replaceChildren(h('p', { class: 'hk-error' }, err.text || err.code));
    }
    btn.setAttribute('aria-expanded', 'true');
  }

  renderFeed() {
    const list = this.model.critical.slice(0, 50);
    this.feedEl.replaceChildren(...(list.length ? list.map((c) => this.criticalItem(c))
      : [h('li', { class: 'hk-empty' }, 'No critical moments.')]));
  }

  times() {
    const now = this.model.now();
    for (const td of this.root.querySelectorAll('td[data-col="since"], td[data-col="oldest"]')) {
      const since = Number(td.dataset.since);
      if (since) {
        td.textContent = ago(now - since);
      }
    }
  }

  changed(what, d) {
    if (this.model.isAgent) {
      return;
    }
    if (what === 'all') {
      this.renderTenant();
      this.renderQueues();
      this.renderAgents();
      this.renderCallbacks();
      this.renderFeed();
    } else if (what === 'stats') {
      this.renderTenant();
      this.renderQueues();
      this.renderAgents();
      this.renderCallbacks();
    } else if (what === 'agents') {
      this.renderAgents();
    } else if (what === 'critical') {
      this.feedEl.querySelector('.hk-empty')?.remove();
      this.feedEl.prepend(this.criticalItem(d));
      while (this.feedEl.children.length > 50) {
        this.feedEl.lastElementChild.remove();
      }
    }
  }
}
