// client.mjs: a websocket client of the dashboard API for the tests and the benchmark (node
// `ws`): connects with the hetki-dashboard.v1 subprotocol and an Origin, keeps every frame it
// receives, waits for frames matching a predicate with a bound on the time, and wraps the
// login/auth/command frames of docs/protocols/dashboard.md.
import WebSocket from 'ws';

import { TEST_ORIGIN, sleep } from './stack.mjs';

export const SUBPROTOCOL = 'hetki-dashboard.v1';

let reqSeq = 0;
/** A fresh request id. */
export function rid(prefix = 'r') {
  reqSeq += 1;
  return `${prefix}${process.pid}-${reqSeq}`;
}

export class DashClient {
  constructor(ws) {
    this.ws = ws;
    this.frames = [];
    this.used = new Set();
    this.waiters = [];
    this.onFrame = null; // optional hook (frame, receivedAtMs)
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        this.wake();
      });
    });
    ws.on('message', (data, isBinary) => {
      const at = Date.now();
      let frame;
      try {
        frame = JSON.parse(isBinary ? Buffer.from(data).toString() : data.toString());
      } catch {
        frame = { type: '__unparsable', raw: data.toString() };
      }
      // An `events` message carries several event frames in order: kept as single frames
      // (this.batches counts the messages).
      let list = [frame];
      if (frame.type === 'events' && Array.isArray(frame.events)) {
        this.batches = (this.batches || 0) + 1;
        list = frame.events;
      }
      for (const f of list) {
        if (this.onFrame) {
          this.onFrame(f, at);
        }
        if (!this.discard) {
          this.frames.push(f);
        }
      }
      this.wake();
    });
    ws.on('error', () => {});
  }

  /** Connects; resolves once open, rejects with err.status on an HTTP refusal. */
  static connect(url, { origin = TEST_ORIGIN, protocol = SUBPROTOCOL, timeoutMs = 5000 } = {}) {
    return new Promise((resolve, reject) => {
      const headers = origin ? { Origin: origin } : {};
      const ws = new WebSocket(url, protocol || undefined, { headers, handshakeTimeout: timeoutMs,
        perMessageDeflate: false, maxPayload: 16 << 20 });
      const fail = (err) => {
        ws.removeAllListeners('open');
        reject(err);
      };
      ws.once('unexpected-response', (req, res) => {
        const err = new Error(`refused with HTTP ${res.statusCode}`);
        err.status = res.statusCode;
        req.destroy();
        fail(err);
      });
      ws.once('error', fail);
      const client = new DashClient(ws);
      ws.once('open', () => {
        ws.removeListener('error', fail);
        ws.removeAllListeners('unexpected-response');
        resolve(client);
      });
    });
  }

  wake() {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((fn) => fn());
  }

  get isOpen() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(obj) {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  /** Finds (and consumes) the first unconsumed frame matching pred, waiting up to ms. */
  async take(pred, ms = 5000, what = 'a frame') {
    const until = Date.now() + ms;
    for (;;) {
      for (let i = 0; i < this.frames.length; i++) {
        if (!this.used.has(i) && pred(this.frames[i])) {
          this.used.add(i);
          return this.frames[i];
        }
      }
      const left = until - Date.now();
      if (left <= 0 || this.closeInfo) {
        const seen = this.frames.slice(-30).map((f) => JSON.stringify(f).slice(0, 200))
          .join('\n  ');
        throw new Error(`no ${what} within ${ms} ms` +
          (this.closeInfo ? ` (closed ${this.closeInfo.code} ${this.closeInfo.reason})` : '') +
          `; last frames:\n  ${seen}`);
      }
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Takes the next unconsumed frame of a type. */
  type(type, ms = 5000) {
    return this.take((f) => f.type === type, ms, `"${type}"`);
  }

  /** Sends a frame with a fresh req and resolves its answer (ok, error, card, ...). */
  async request(frame, ms = 10000) {
    const req = rid();
    this.send({ ...frame, req });
    return this.take((f) => f.req === req, ms, `answer to ${frame.type} (${req})`);
  }

  /** Logs in; resolves {session, snapshot} or throws with the error frame. */
  async login(tenant, id, password, ms = 15000) {
    const ans = await this.request({ type: 'login', tenant, id, password }, ms);
    if (ans.type !== 'session') {
      const err = new Error(`login refused: ${JSON.stringify(ans)}`);
      err.frame = ans;
      throw err;
    }
    const snapshot = await this.type('snapshot', ms);
    return { session: ans, snapshot };
  }

  /** Authenticates with a token; same answer as login. */
  async auth(token, ms = 10000) {
    const ans = await this.request({ type: 'auth', token }, ms);
    if (ans.type !== 'session') {
      const err = new Error(`auth refused: ${JSON.stringify(ans)}`);
      err.frame = ans;
      throw err;
    }
    const snapshot = await this.type('snapshot', ms);
    return { session: ans, snapshot };
  }

  /** Waits ms and returns every frame (consumed or not) matching pred received so far. */
  async during(ms, pred) {
    await sleep(ms);
    return this.frames.filter(pred);
  }

  /** Closes (normal) and waits for the close to finish. */
  async close() {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(1000);
    }
    const t = setTimeout(() => this.ws.terminate(), 3000);
    await this.closed;
    clearTimeout(t);
  }
}
