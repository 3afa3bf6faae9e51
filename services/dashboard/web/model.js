/* hetki dashboard: the client-side view model. Holds what the last snapshot said and applies
 * the deltas after it (docs/protocols/dashboard.md, "Real time"): events with a rev at or
 * below the snapshot's are already in it; stats frames replace the aggregates unless older
 * than what we hold. Views subscribe with onChange(fn(what, detail)). A supervisor's agents
 * table follows offers and releases (load, holding) at once; the next stats frame (which the
 * service sends soon after such events) brings the exact figures. */
import { kv } from './dom.js';

const WORKING = new Set(['available', 'busy', 'wrap_up']);

export class Model {
  constructor() {
    this.listeners = new Set();
    this.account = null;
    this.units = new Map(); // supervisors: agent id -> its last known load per contact
    this.reset();
  }

  reset() {
    this.snapRev = 0; // events at or below this are in the snapshot
    this.heldRev = 0; // the newest rev applied (stats older than it are stale)
    this.tenant = { name: '', status: 'active' };
    this.queues = [];
    this.agents = [];
    this.callbacks = 0;
    this.critical = [];
    this.me = null;
    this.contacts = new Map(); // id -> card (agents: offered to or held by me)
    this.wrapCodes = [];
    this.typing = new Map(); // contact -> unix ms the customer last typed
    this.serverSkew = 0; // server clock - our clock (ms), from snapshot/stats `at`
  }

  onChange(fn) {
    this.listeners.add(fn);
  }

  emit(what, detail) {
    for (const fn of this.listeners) {
      fn(what, detail);
    }
  }

  /** Our estimate of the server's clock now (lease countdowns use the server's deadlines). */
  now() {
    return Date.now() + this.serverSkew;
  }

  get isAgent() {
    return this.account?.role === 'agent';
  }

  skew(at) {
    if (Number(at) > 0) {
      this.serverSkew = Number(at) - Date.now();
    }
  }

  snapshot(f) {
    const keepTyping = this.typing;
    this.reset();
    this.typing = keepTyping;
    this.skew(f.at);
    this.snapRev = Number(f.rev) || 0;
    this.heldRev = this.snapRev;
    this.tenant = { name: f.tenant?.name || this.account?.tenant || '',
      status: f.tenant?.status || 'active' };
    this.queues = Array.isArray(f.queues) ? f.queues : [];
    this.agents = Array.isArray(f.agents) ? f.agents : [];
    this.callbacks = Number(f.callbacks) || 0;
    this.critical = Array.isArray(f.critical) ? f.critical.slice() : [];
    this.me = f.me && typeof f.me === 'object' ? { ...f.me } : null;
    for (const c of Array.isArray(f.contacts) ? f.contacts : []) {
      if (c && c.id) {
        this.contacts.set(c.id, this.normal(c));
      }
    }
    this.wrapCodes = Array.isArray(f.wrap_codes) ? f.wrap_codes : [];
    this.emit('all');
  }

  stats(f) {
    const rev = Number(f.rev) || 0;
    if (rev < this.heldRev) {
      return;
    }
    this.heldRev = rev;
    this.skew(f.at);
    if (f.tenant?.status) {
      this.tenant.status = f.tenant.status;
    }
    if (Array.isArray(f.queues)) {
      this.queues = f.queues;
    }
    if (Array.isArray(f.agents)) {
      this.agents = f.agents;
      const mine = this.me && f.agents.find((a) => a.id === this.me.id);
      if (mine && mine.state && mine.state !== this.me.state) {
        this.me.state = mine.state;
        if (mine.since) {
          this.me.since = mine.since;
        }
        this.emit('me');
      }
    }
    if (f.callbacks !== undefined) {
      this.callbacks = Number(f.callbacks) || 0;
    }
    this.emit('stats');
  }

  /** A card as we keep it: arrays where arrays are expected. */
  normal(c) {
    const card = { ...c };
    // (An empty list may come as {} from Redis' cjson.)
    card.reasons = Array.isArray(c.reasons) ? c.reasons
      : (typeof c.reasons === 'string' ? c.reasons.split(',').filter(Boolean) : []);
    card.history = Array.isArray(c.history) ? c.history : [];
    card.conversation = Array.isArray(c.conversation) ? c.conversation : [];
    return card;
  }

  /** A card from the service (pushed, or asked for): merged over what we know. */
  card(c) {
    if (!c || !c.id) {
      return;
    }
    const known = this.contacts.get(c.id);
    if (!known && this.isAgent && c.state === 'closed') {
      return; // a card of something already wrapped up
    }
    const card = this.normal(c);
    if (known) {
      // Keep messages that arrived as events after the card was made.
      const ids = new Set(card.conversation.map((m) => m.id));
      for (const m of known.conversation) {
        if (!ids.has(m.id)) {
          card.conversation.push(m);
        }
      }
      card.conversation.sort((a, b) => (Number(a.at) || 0) - (Number(b.at) || 0));
    }
    this.contacts.set(c.id, { ...known, ...card });
    this.deriveMe();
    this.emit('contact', { id: c.id, fresh: !known });
  }

  /** Our display state while working follows our contacts (the router publishes no event
   * when an offer makes us busy). */
  deriveMe() {
    if (!this.me || !WORKING.has(this.me.state)) {
      return;
    }
    const list = [...this.contacts.values()];
    let s = 'available';
    if (list.some((c) => c.state === 'resolution_proposed' || c.state === 'closed')) {
      s = 'wrap_up';
    } else if (list.length) {
      s = 'busy';
    }
    if (s !== this.me.state) {
      this.me.state = s;
      this.emit('me');
    }
  }

  drop(id) {
    if (this.contacts.delete(id)) {
      this.typing.delete(id);
      this.deriveMe();
      this.emit('contact', { id, gone: true });
    }
  }

  /** A command's ok: the states it reports are the newest we know. */
  ok(f, command) {
    if (this.me && f.agent_state) {
      this.me.state = f.agent_state;
      this.me.since = this.now();
      if (command.type === 'pause') {
        this.me.reason = command.reason;
      } else if (command.type === 'available') {
        this.me.reason = '';
      }
      this.emit('me');
    }
    const id = f.contact || command.contact;
    if (command.type === 'wrapup' || command.type === 'transfer' || command.type === 'decline') {
      this.drop(id);
    } else if (id && f.contact_state && this.contacts.has(id)) {
      this.contacts.get(id).state = f.contact_state;
      this.emit('contact', { id });
    }
  }

  event(f) {
    const rev = Number(f.rev) || 0;
    if (rev > 0 && rev <= this.snapRev) {
      return;
    }
    if (rev > this.heldRev) {
      this.heldRev = rev;
    }
    const kind = String(f.kind || '');
    const detail = f.detail && typeof f.detail === 'object' ? f.detail : kv(f.detail);
    const at = Number(f.at_ms) || this.now();
    if (kind.startsWith('agent.')) {
      this.agentEvent(f, detail, at);
    } else if (kind.startsWith('critical.')) {
      this.critical.unshift({ at, kind: kind.slice(9), contact: f.contact || '',
        detail: detail.customer ? `customer=${detail.customer}` : '' });
      this.critical.length = Math.min(this.critical.length, 200);
      this.emit('critical', this.critical[0]);
    } else if (kind.startsWith('chat.')) {
      this.chatEvent(f, kind);
    } else if (kind.startsWith('contact.') || kind.startsWith('call.')) {
      this.contactEvent(f, kind, detail);
    }
    this.emit('event', f);
  }

  agentEvent(f, detail, at) {
    let a = this.agents.find((x) => x.id === f.agent);
    if (!a && f.agent) {
      a = { id: f.agent, name: f.agent, state: f.state, since: at };
      this.agents.push(a);
    }
    if (a && f.state && (a.state !== f.state || f.kind === 'agent.state')) {
      a.state = f.state;
      a.since = at;
      a.reason = detail.reason || '';
    }
    if (!this.isAgent && f.kind === 'agent.state' &&
        (detail.wrapped || (detail.reason === 'recovery' && detail.until))) {
      this.holding(a, -1); // a wrap-up (a distressing one starts the recovery pause)
    }
    if (this.me && f.agent === this.me.id) {
      if (f.state) {
        this.me.state = f.state;
        this.me.since = at;
        this.me.reason = detail.reason || '';
        this.me.until = Number(detail.until) || 0;
      }
      if (detail.wrapped) {
        this.drop(detail.wrapped);
      }
      this.deriveMe();
      this.emit('me');
    }
    this.emit('agents');
  }

  /** Supervisors: an agent was offered a contact (+1) or let one go (-1). Its load moves by
   * the load per contact it last had (as if its contacts cost alike); without one to go
   * by, the load waits for the next stats frame. */
  holding(a, delta) {
    if (!a || typeof a.holding !== 'number') {
      return;
    }
    const before = a.holding;
    const after = Math.max(0, before + delta);
    const load = Number(a.load) || 0;
    if (before > 0 && load > 0) {
      this.units.set(a.id, load / before);
    }
    const unit = this.units.get(a.id) || 0;
    a.holding = after;
    if (after === 0) {
      a.load = 0;
    } else if (unit > 0) {
      a.load = Math.max(0, Math.round(load + (after - before) * unit));
    }
    this.emit('agents');
  }

  chatEvent(f, kind) {
    const c = this.contacts.get(f.contact);
    const p = f.payload && typeof f.payload === 'object' ? f.payload : null;
    if (!c || !p) {
      return;
    }
    if (kind === 'chat.message') {
      if (!c.conversation.some((m) => m.id === p.id)) {
        c.conversation.push(p);
      } else {
        const m = c.conversation.find((x) => x.id === p.id);
        Object.assign(m, p, { sending: false });
      }
      if (p.from === 'customer') {
        this.typing.delete(f.contact);
      }
      this.emit('message', { id: f.contact, message: p });
    } else if (kind === 'chat.typing' && p.from === 'customer') {
      this.typing.set(f.contact, Date.now());
      this.emit('typing', { id: f.contact });
    } else if (kind === 'chat.email' || kind === 'chat.person') {
      this.emit('message', { id: f.contact, note: kind, message: p });
    }
  }

  contactEvent(f, kind, detail) {
    const id = f.contact;
    const mine = this.me && f.agent === this.me.id;
    if (!this.isAgent) {
      const a = this.agents.find((x) => x.id === f.agent);
      if (kind === 'contact.offered' || kind === 'contact.assigned') {
        if (a && a.state === 'available') {
          a.state = 'busy';
          a.since = Number(f.at_ms) || this.now();
          this.emit('agents');
        }
      }
      if (kind === 'contact.offered') {
        this.holding(a, 1);
      } else if (kind === 'contact.declined' || kind === 'contact.offer_timeout' ||
                 kind === 'contact.transferred') {
        this.holding(a, -1);
      }
      return;
    }
    let c = this.contacts.get(id);
    if (kind === 'contact.offered' && mine) {
      const fresh = !c;
      c = c || this.normal({ id, state: 'offered', queue: f.queue });
      c.state = 'offered';
      c.offer_until = Number(detail.lease_until) || c.offer_until;
      this.contacts.set(id, c);
      this.deriveMe();
      this.emit('contact', { id, fresh, offered: true });
      return;
    }
    if (!c) {
      return;
    }
    if ((kind === 'contact.declined' || kind === 'contact.offer_timeout' ||
         kind === 'contact.transferred') && mine) {
      this.drop(id);
      return;
    }
    if (kind === 'contact.queued' || kind === 'contact.overflow') {
      if (c.state === 'offered' || kind === 'contact.queued') {
        this.drop(id); // it went back to a queue: no longer ours
      }
      return;
    }
    if (kind.startsWith('call.')) {
      c.call = { ...(c.call || {}), state: kind.slice(5), ...detail };
    } else if (f.state === 'queued') {
      this.drop(id); // back in a queue: no longer ours
      return;
    } else if (f.state) {
      c.state = f.state;
      if (kind === 'contact.resolution_proposed') {
        c.confirm_until = Number(detail.confirm_until) || 0;
      } else if (kind === 'contact.closed') {
        c.closed_reason = detail.reason || '';
      } else if (kind === 'contact.reopened') {
        c.reopened = true;
      }
    }
    this.deriveMe();
    this.emit('contact', { id });
  }
}
