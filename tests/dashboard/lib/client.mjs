// client.mjs: a websocket client of the dashboard API for the tests: the shared one
// (tests/lib/ws_client.mjs) with the suite's node `ws` and the hetki-dashboard.v1 subprotocol;
// unpacks `events` messages into single frames and wraps the login/auth/command frames of
// docs/protocols/dashboard.md.
import WebSocket from 'ws';

import { WsClient } from '../../lib/ws_client.mjs';

export const SUBPROTOCOL = 'hetki-dashboard.v1';

let reqSeq = 0;
/** A fresh request id. */
export function rid(prefix = 'r') {
  reqSeq += 1;
  return `${prefix}${process.pid}-${reqSeq}`;
}

export class DashClient extends WsClient {
  static WebSocket = WebSocket;
  static protocol = SUBPROTOCOL;
  static maxPayload = 16 << 20;

  /** An `events` message carries several event frames in order: kept as single frames
   * (this.batches counts the messages). */
  received(frame) {
    if (frame.type === 'events' && Array.isArray(frame.events)) {
      this.batches = (this.batches || 0) + 1;
      this.frames.push(...frame.events);
    } else {
      this.frames.push(frame);
    }
  }

  /** Sends a frame with a fresh req and resolves its answer (ok, error, card, ...). */
  async request(frame, ms = 10000) {
    const req = rid();
    this.send({ ...frame, req });
    return this.take((f) => f.req === req, ms, `answer to ${frame.type} (${req})`);
  }

  /** Logs in; resolves {session, snapshot} or throws with the error frame. */
  async login(tenant, id, password, ms = 15000) {
    return this.signIn('login', { type: 'login', tenant, id, password }, ms);
  }

  /** Authenticates with a token; same answer as login. */
  async auth(token, ms = 10000) {
    return this.signIn('auth', { type: 'auth', token }, ms);
  }

  /** Sends a login or auth frame; resolves {session, snapshot} or throws with the answer. */
  async signIn(what, frame, ms) {
    const ans = await this.request(frame, ms);
    if (ans.type !== 'session') {
      const err = new Error(`${what} refused: ${JSON.stringify(ans)}`);
      err.frame = ans;
      throw err;
    }
    const snapshot = await this.type('snapshot', ms);
    return { session: ans, snapshot };
  }
}
