/* hetki dashboard: small DOM and formatting helpers shared by the views. No framework: the
 * views rebuild their own sections from state, keeping focus where the user left it. */

/** An element: props are attributes (aria-*, data-*, role, for) or properties; kids are nodes,
 * strings, or null/undefined/false (skipped). */
export function h(tag, props = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) {
      continue;
    }
    if (k === 'class') {
      e.className = v;
    } else if (k === 'on') {
      for (const [ev, fn] of Object.entries(v)) {
        e.addEventListener(ev, fn);
      }
    } else if (/^(aria-|data-|role$|for$)/.test(k)) {
      e.setAttribute(k, v === true ? 'true' : v);
    } else {
      e[k] = v;
    }
  }
  e.append(...kids.flat().filter((x) => x !== null && x !== undefined && x !== false));
  return e;
}

/** Replaces the children of el with kids; keeps focus on an element with the same
 * data-focus-key when the old one had it (so a live update does not steal the keyboard). */
export function replaceKids(el, ...kids) {
  const active = document.activeElement;
  const key = active && el.contains(active) ? active.dataset.focusKey : undefined;
  el.replaceChildren(...kids.flat().filter((x) => x !== null && x !== undefined && x !== false));
  if (key) {
    const again = el.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
    if (again) {
      again.focus({ preventScroll: true });
    }
  }
}

/** "1:05" / "1:02:03" for a duration in ms (never negative). */
export function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** A short human duration: "45 s", "3 min", "2 h 5 min", "3 d". */
export function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) {
    return `${s} s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min`;
  }
  if (s < 86400) {
    const m = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${m ? ` ${m} min` : ''}`;
  }
  return `${Math.floor(s / 86400)} d`;
}

/** The local time of a unix ms as HH:MM (and the date when not today). */
export function timeOf(ms) {
  if (!Number(ms)) {
    return '';
  }
  const d = new Date(Number(ms));
  const t = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  const today = new Date();
  if (d.toDateString() === today.toDateString()) {
    return t;
  }
  return `${d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short' })} ${t}`;
}

/** Parses "k=v k2=v2" detail text into an object. */
export function kv(text) {
  const out = {};
  for (const part of String(text || '').split(/\s+/)) {
    const i = part.indexOf('=');
    if (i > 0) {
      out[part.slice(0, i)] = part.slice(i + 1);
    }
  }
  return out;
}

/** A routing reason ("lexicon:fi:urgent:varastettu") in words. */
export function reasonText(r) {
  const p = String(r).split(':');
  const words = {
    'choice:urgent': 'The customer chose "urgent"',
    'choice:talk_to_person': 'The customer asked to talk to a person',
    'choice:callback': 'The customer asked to be called back',
    'channel:phone': 'It is a phone call',
    repeat_contact: 'Repeat contact: the customer contacted us recently',
    'first_contact:moment_of_truth': 'First-ever contact: a moment of truth',
    'customer:vulnerable': 'The customer is flagged vulnerable',
    'customer:vip': 'The customer is flagged VIP',
    'target:voice:live': 'Routed to a live voice agent',
    'target:callback:phone_known': 'Routed to a callback (phone number known)',
    'target:human_chat:no_phone': 'Routed to a human chat (no phone number known)',
    'target:async': 'Routine: answered asynchronously',
  };
  if (words[r]) {
    return words[r];
  }
  if (p[0] === 'lexicon' && p.length >= 4) {
    return `Words in the message (${p[1]}, ${p[2]}): "${p.slice(3).join(':')}"`;
  }
  if (p[0] === 'ivr' && p.length >= 3) {
    return `Phone menu digit ${p[1]} (${p[2].replace(/_/g, ' ')})`;
  }
  return String(r).replace(/_/g, ' ');
}

/** Announces text to screen readers through the page's polite (or assertive) live region. */
export function announce(text, assertive = false) {
  const el = document.getElementById(assertive ? 'hk-alert' : 'hk-status');
  if (!el) {
    return;
  }
  // Re-setting the same text would not be read again: clear first.
  el.textContent = '';
  setTimeout(() => {
    el.textContent = text;
  }, 30);
}
