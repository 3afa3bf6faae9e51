/* hetki dashboard: the websocket connection (docs/protocols/dashboard.md). One socket carries
 * login, the live view and every command. Reconnects with backoff and authenticates again with
 * the session token; checks the per-connection `seq` of event/stats frames and asks for a
 * `resync` on a jump; answers requests by their `req`; pings every 30 s. */

const PROTOCOL = 'hetki-dashboard.v1';
const ANSWERS = new Set(['ok', 'error', 'card', 'snapshot', 'session', 'pong']);
const PING_MS = 30000;
const REQUEST_MS = 15000;

export class Conn {
  /** url: the websocket URL; on: {session, snapshot, event, stats, card, state, ended}. */
  constructor(url, on) {
    this.url = url;
    this.on = on;
    this.ws = null;
    this.token = '';
    this.want = false; // keep a connection up
    this.authed = false;
    this.seq = 0;
    this.syncing = false; // a resync was asked for: ignore deltas until the snapshot
    this.pending = new Map(); // req -> {resolve, reject, timer}
    this.reqSeq = 0;
    this.backoff = 500;
    this.retryTimer = null;
    this.pingTimer = null;
    this.state = 'offline';
    this.loginWaiter = null;
  }

  setState(s) {
    if (this.state !== s) {
      this.state = s;
      this.on.state?.(s);
    }
  }

  /** Starts (or keeps) a connection; with a token it authenticates at once on open. */
  start(token = '') {
    this.token = token || this.token;
    this.want = true;
    if (!this.ws) {
      this.open();
    }
  }

  /** Stops for good (sign-out): no reconnects. */
  stop() {
    this.want = false;
    this.token = '';
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    if (this.ws) {
      this.ws.close(1000);
    }
    this.ws = null;
    this.authed = false;
    this.failAll({ code: 'closed', text: 'signed out' });
    this.setState('offline');
  }

  open() {
    clearTimeout(this.retryTimer);
    this.setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url, PROTOCOL);
    } catch (e) {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.backoff = 500;
      this.opened?.();
      if (this.token) {
        this.setState('syncing');
        this.request({ type: 'auth', token: this.token }).catch((err) => {
          if (err.code === 'bad_token' || err.code === 'session_ended') {
            this.endSession(err);
          }
        });
      } else {
        this.setState('open');
      }
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => {
        if (this.authed) {
          this.send({ type: 'ping' });
        }
      }, PING_MS);
    };
    ws.onmessage = (m) => this.receive(m.data);
    ws.onclose = () => {
      if (this.ws !== ws) {
        return;
      }
      this.ws = null;
      this.authed = false;
      clearInterval(this.pingTimer);
      this.failAll({ code: 'unavailable', text: 'the connection was lost' });
      if (this.want) {
        this.retry();
      } else {
        this.setState('offline');
      }
    };
  }

  retry(afterMs) {
    this.setState('offline');
    clearTimeout(this.retryTimer);
    const wait = afterMs ?? this.backoff * (0.75 + Math.random() * 0.5);
    this.backoff = Math.min(this.backoff * 2, 10000);
    this.retryTimer = setTimeout(() => {
      if (this.want && !this.ws) {
        this.open();
      }
    }, wait);
  }

  /** Waits until the socket is open (for a login typed before it was). */
  whenOpen(ms = 10000) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject({ code: 'unavailable', text: 'cannot reach the server' }),
        ms);
      this.opened = () => {
        clearTimeout(t);
        this.opened = null;
        resolve();
      };
    });
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  /** Sends frame with a fresh req; resolves the answer frame, rejects with {code, text}. */
  request(frame) {
    this.reqSeq += 1;
    const req = `r${this.reqSeq}-${Date.now().toString(36)}`;
    return new Promise((resolve, reject) => {
      if (!this.send({ ...frame, req })) {
        reject({ code: 'unavailable', text: 'not connected; try again in a moment' });
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(req);
        reject({ code: 'unavailable', text: 'no answer from the server' });
      }, REQUEST_MS);
      this.pending.set(req, { resolve, reject, timer });
    });
  }

  failAll(err) {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  endSession(err) {
    this.token = '';
    this.want = false;
    this.authed = false;
    this.on.ended?.(err);
  }

  resync() {
    if (!this.syncing && this.authed) {
      this.syncing = true;
      this.setState('syncing');
      this.send({ type: 'resync' });
    }
  }

  receive(data) {
    let f;
    try {
      f = JSON.parse(data);
    } catch (e) {
      return;
    }
    if (!f || typeof f !== 'object') {
      return;
    }
    this.frame(f);
  }

  /** One frame; an `events` message carries several `event` frames in order. */
  frame(f) {
    if (f.type === 'events') {
      for (const e of Array.isArray(f.events) ? f.events : []) {
        if (e && typeof e === 'object' && e.type === 'event') {
          this.frame(e);
        }
      }
      return;
    }
    if (f.type === 'session') {
      this.authed = true;
      if (f.token) {
        this.token = f.token;
      }
      this.on.session?.(f);
    } else if (f.type === 'snapshot') {
      this.seq = 0;
      this.syncing = false;
      this.setState('live');
      this.on.snapshot?.(f);
    } else if (f.type === 'event' || f.type === 'stats') {
      if (this.syncing) {
        return; // the snapshot on its way replaces everything
      }
      if (f.seq !== this.seq + 1) {
        this.resync(); // a jump: we missed something
        return;
      }
      this.seq = f.seq;
      this.on[f.type]?.(f);
    } else if (f.type === 'card') {
      this.on.card?.(f);
    } else if (f.type === 'reconnect') {
      const ws = this.ws;
      this.ws = null;
      ws?.close(1000);
      this.authed = false;
      this.failAll({ code: 'unavailable', text: 'the server is restarting' });
      this.retry(Number(f.after_ms) || 200);
    } else if (f.type === 'error' && f.code === 'session_ended') {
      this.endSession(f);
    }
    if (f.req && ANSWERS.has(f.type) && this.pending.has(f.req)) {
      const p = this.pending.get(f.req);
      this.pending.delete(f.req);
      clearTimeout(p.timer);
      if (f.type === 'error') {
        p.reject(f);
      } else {
        p.resolve(f);
      }
    }
  }
}
