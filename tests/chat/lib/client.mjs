// client.mjs: a websocket chat client for the protocol tests (node `ws`): connects with the
// hetki-chat.v1 subprotocol and an Origin, keeps every frame it receives, and waits for frames
// matching a predicate with a bound on the time.
import WebSocket from 'ws';

import { TEST_ORIGIN, sleep } from './stack.mjs';

export class ChatClient {
  constructor(ws) {
    this.ws = ws;
    this.frames = []; // every frame received, parsed
    this.used = new Set(); // indexes consumed by take()
    this.waiters = [];
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        this.wake();
      });
    });
    ws.on('message', (data, isBinary) => {
      let frame;
      try {
        frame = JSON.parse(isBinary ? Buffer.from(data).toString() : data.toString());
      } catch {
        frame = { type: '__unparsable', raw: data.toString() };
      }
      this.frames.push(frame);
      this.wake();
    });
    ws.on('error', () => {});
  }

  /** Connects; resolves the client once open, rejects with the HTTP status on refusal. */
  static connect(url, { origin = TEST_ORIGIN, protocol = 'hetki-chat.v1', timeoutMs = 5000,
    localAddress } = {}) {
    return new Promise((resolve, reject) => {
      const headers = origin ? { Origin: origin } : {};
      const ws = new WebSocket(url, protocol, { headers, handshakeTimeout: timeoutMs,
        localAddress, perMessageDeflate: false, maxPayload: 1 << 20 });
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
      ws.once('close', (code) => {
        const err = new Error(`closed during the handshake (${code})`);
        err.closeCode = code;
        fail(err);
      });
      const client = new ChatClient(ws);
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
        const seen = this.frames.map((f) => JSON.stringify(f).slice(0, 160)).join('\n  ');
        throw new Error(`no ${what} within ${ms} ms` +
          (this.closeInfo ? ` (closed ${this.closeInfo.code})` : '') + `; frames:\n  ${seen}`);
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

  /** Takes the next unconsumed frame of a type (and optionally an id). */
  type(type, ms = 5000, id = undefined) {
    return this.take((f) => f.type === type && (id === undefined || f.id === id), ms,
      `"${type}"${id !== undefined ? ` for ${id}` : ''}`);
  }

  /** Waits ms and returns every frame (consumed or not) matching pred received so far. */
  async during(ms, pred) {
    await sleep(ms);
    return this.frames.filter(pred);
  }

  /** Sends hello and returns the welcome. */
  async hello(tenant, lang = 'fi', resume = undefined, ms = 5000) {
    const f = { type: 'hello', tenant, lang };
    if (resume) {
      f.resume = resume;
    }
    this.send(f);
    return this.type('welcome', ms);
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

  /** Drops the TCP connection without a close handshake (a customer losing the network). */
  async drop() {
    this.ws.terminate();
    await this.closed;
  }
}

let seq = 0;
/** A fresh client message id. */
export function mid(prefix = 'm') {
  seq += 1;
  return `${prefix}${process.pid}-${Date.now().toString(36)}-${seq}`;
}
