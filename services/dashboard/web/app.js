/* hetki dashboard: the web app's entry point. Signs in over the websocket (the token is kept
 * in sessionStorage and used again after a reconnect or a reload), feeds snapshots and deltas
 * to the model, shows the agent's or the supervisor's view by the account's role, and turns
 * view actions into commands. window.hetkiDashboard.state() tells tests what the app holds. */
import { AgentView } from './agent.js';
import { announce } from './dom.js';
import { Model } from './model.js';
import { Conn } from './net.js';
import { SupervisorView } from './supervisor.js';

const TOKEN_KEY = 'hetki-dashboard:token';
const TENANT_KEY = 'hetki-dashboard:tenant';
const CONN_WORDS = {
  offline: 'Not connected: reconnecting…',
  connecting: 'Connecting…',
  open: 'Connected',
  syncing: 'Updating…',
  live: 'Live',
};

const $ = (id) => document.getElementById(id);
const storage = (() => {
  try {
    const s = window.sessionStorage;
    s.setItem('hetki-dashboard:probe', '1');
    return s;
  } catch (e) {
    const mem = new Map();
    return { getItem: (k) => mem.get(k) ?? null, setItem: (k, v) => mem.set(k, v),
      removeItem: (k) => mem.delete(k) };
  }
})();
const local = (() => {
  try {
    return window.localStorage;
  } catch (e) {
    return storage;
  }
})();

const model = new Model();
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
let signedIn = false;

const conn = new Conn(wsUrl, {
  state(s) {
    const el = $('hk-conn');
    el.dataset.state = signedIn || s !== 'open' ? s : 'open';
    el.textContent = !signedIn && s === 'offline' ? 'Not connected' : CONN_WORDS[s] || s;
  },
  session(f) {
    model.account = f.account || null;
    if (f.token) {
      storage.setItem(TOKEN_KEY, f.token);
    }
    showApp();
  },
  snapshot(f) {
    model.snapshot(f);
  },
  event(f) {
    model.event(f);
  },
  stats(f) {
    model.stats(f);
  },
  card(f) {
    if (model.isAgent) {
      model.card(f.contact);
    }
  },
  ended(err) {
    storage.removeItem(TOKEN_KEY);
    showLogin(err.code === 'session_ended' ? 'Your session ended. Please sign in again.'
      : 'Please sign in again.');
    conn.start();
  },
});

/** Sends a command; resolves its ok frame (and applies what it reports) or rejects with
 * {code, text}. */
async function command(frame) {
  const ok = await conn.request(frame);
  if (ok.type === 'ok') {
    model.ok(ok, frame);
  } else if (ok.type === 'card' && model.isAgent) {
    model.card(ok.contact);
  }
  return ok;
}

const ctx = { model, command, send: (f) => conn.send(f) };
const agentView = new AgentView(ctx);
const superView = new SupervisorView(ctx);

function showApp() {
  signedIn = true;
  const a = model.account || {};
  $('hk-login').hidden = true;
  $('hk-agent').hidden = a.role !== 'agent';
  $('hk-super').hidden = a.role !== 'supervisor';
  $('hk-who').hidden = false;
  $('hk-who').textContent = `${a.name || a.id} · ${a.role === 'supervisor' ? 'supervisor'
    : 'agent'} · ${a.tenant}`;
  $('hk-logout').hidden = false;
  document.title = `${a.name || a.id} – hetki dashboard`;
  local.setItem(TENANT_KEY, a.tenant || '');
}

function showLogin(message = '') {
  signedIn = false;
  model.account = null;
  model.reset();
  agentView.clear();
  $('hk-login').hidden = false;
  $('hk-agent').hidden = true;
  $('hk-super').hidden = true;
  $('hk-who').hidden = true;
  $('hk-logout').hidden = true;
  $('hk-login-error').textContent = message;
  document.title = 'hetki dashboard';
  const tenant = $('hk-login-tenant');
  tenant.value = tenant.value || new URLSearchParams(location.search).get('tenant') ||
    local.getItem(TENANT_KEY) || '';
  (tenant.value ? $('hk-login-agent') : tenant).focus();
}

const LOGIN_ERRORS = {
  bad_credentials: 'The organisation, user name or password is not right.',
  locked: 'Too many failed attempts: this account is locked for a while.',
  rate: 'Too many attempts: wait a moment.',
  unavailable: 'The server cannot be reached right now. Try again in a moment.',
};

$('hk-login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const tenant = $('hk-login-tenant').value.trim();
  const id = $('hk-login-agent').value.trim();
  const password = $('hk-login-password').value;
  const error = $('hk-login-error');
  for (const [el, ok] of [[$('hk-login-tenant'), tenant], [$('hk-login-agent'), id],
    [$('hk-login-password'), password]]) {
    el.setAttribute('aria-invalid', ok ? 'false' : 'true');
    if (!ok) {
      error.textContent = 'Fill in every field.';
      el.focus();
      return;
    }
  }
  const button = $('hk-login-submit');
  button.disabled = true;
  error.textContent = '';
  try {
    conn.start();
    await conn.whenOpen();
    await conn.request({ type: 'login', tenant, id, password });
    $('hk-login-password').value = '';
    announce(`Signed in as ${model.account?.name || id}.`);
    $('hk-main').focus();
  } catch (err) {
    error.textContent = LOGIN_ERRORS[err.code] || err.text || 'Sign-in failed.';
    $('hk-login-password').focus();
  }
  button.disabled = false;
});

$('hk-logout').addEventListener('click', async () => {
  try {
    await conn.request({ type: 'logout' });
  } catch (e) {
    // the session goes anyway: we forget the token
  }
  conn.stop();
  storage.removeItem(TOKEN_KEY);
  showLogin('Signed out.');
  conn.start();
});

// Resync when the page comes back from the background (timers may have been throttled).
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && signedIn) {
    conn.resync();
  }
});

window.hetkiDashboard = {
  state: () => ({
    conn: conn.state,
    seq: conn.seq,
    account: model.account,
    rev: model.heldRev,
    me: model.me,
    contacts: [...model.contacts.values()].map((c) => ({ id: c.id, state: c.state })),
    queues: model.queues,
  }),
  resync: () => conn.resync(),
};

const token = storage.getItem(TOKEN_KEY);
if (token) {
  $('hk-login').hidden = true;
  conn.start(token);
} else {
  showLogin();
  conn.start();
}
