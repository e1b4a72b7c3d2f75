// The console: hash-routed pages (#servers, #events) over the /v1 API, refreshed by polling.
import {call, session, logout, watch} from './api.js';

const POLL_MS = 2000;
const main = document.getElementById('main');
const banner = document.getElementById('banner');
let page = null;
let timer = null;
let downSince = null;

// ---- small helpers -------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) {
      continue;
    }
    if (k.startsWith('on')) {
      e.addEventListener(k.substring(2), v);
    } else if (k === 'text') {
      e.textContent = v;
    } else {
      e.setAttribute(k, v === true ? '' : v);
    }
  }
  for (const c of children) {
    if (c !== null && c !== undefined) {
      e.append(c);
    }
  }
  return e;
}

export function bytes(n) {
  if (n === null || n === undefined || n < 0) {
    return '';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return (i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
}

export function duration(s) {
  if (s === null || s === undefined) {
    return '';
  }
  s = Math.max(0, Math.round(s));
  const d = Math.floor(s / 86400);
  const h = Math.floor(s % 86400 / 3600);
  const m = Math.floor(s % 3600 / 60);
  if (d > 0) {
    return d + 'd ' + h + 'h';
  }
  if (h > 0) {
    return h + 'h ' + m + 'm';
  }
  return m > 0 ? m + 'm ' + (s % 60) + 's' : s + 's';
}

function showError(message) {
  document.getElementById('error-text').textContent = message;
  document.getElementById('error').hidden = false;
}

function clearError() {
  document.getElementById('error').hidden = true;
}

document.getElementById('error-close').addEventListener('click', clearError);
document.getElementById('logout').addEventListener('click', () => logout());

watch(() => {
  if (downSince === null) {
    downSince = new Date();
  }
  banner.textContent = 'The daemon is not answering (since ' + downSince.toLocaleTimeString()
    + '). Retrying; what is shown may be out of date.';
  banner.hidden = false;
}, () => {
  downSince = null;
  banner.hidden = true;
});

/** Asks the confirmation dialog; resolves true when confirmed. */
function confirmAction(title, text, verb) {
  const d = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = verb;
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), {once: true});
    d.returnValue = '';
    d.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch (x) {
    // no clipboard (not a secure context, or refused): select the text for Ctrl+C instead
    const input = button.previousElementSibling;
    if (input && input.select) {
      input.select();
    }
    button.textContent = 'Press Ctrl+C';
  }
  setTimeout(() => { button.textContent = 'Copy'; }, 2000);
}

function uriField(uri, id, label) {
  const input = el('input', {type: 'text', readonly: true, value: uri, class: 'uri', id, 'aria-label': label});
  const b = el('button', {type: 'button', class: 'quiet', 'aria-label': 'Copy ' + label});
  b.textContent = 'Copy';
  b.addEventListener('click', () => copy(uri, b));
  return el('span', {class: 'uri-field'}, input, b);
}

// ---- servers page --------------------------------------------------------------------------

const servers = {
  list: [],
  snapshots: [],

  render() {
    const form = el('form', {id: 'create-form', class: 'card', 'aria-labelledby': 'create-title'},
      el('h2', {id: 'create-title', text: 'Create a branch'}),
      el('div', {class: 'fields'},
        el('label', {for: 'create-source', text: 'Source'}),
        el('select', {id: 'create-source', name: 'source', required: true}),
        el('label', {for: 'create-name', text: 'Name'}),
        el('input', {id: 'create-name', name: 'name', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9._-]*',
          autocomplete: 'off', placeholder: 'feature-x'}),
        el('label', {for: 'create-ttl', text: 'Time to live'}),
        el('input', {id: 'create-ttl', name: 'ttl', placeholder: '2h, 7d (empty: forever)', autocomplete: 'off'}),
        el('label', {for: 'create-at', id: 'create-at-label', text: 'As of (optional)'}),
        el('input', {id: 'create-at', name: 'at', type: 'datetime-local', step: 1, 'aria-describedby': 'create-at-help'}),
        el('span', {}),
        el('span', {id: 'create-at-help', class: 'help'}),
        el('span', {}),
        el('label', {class: 'check'}, el('input', {id: 'create-protect', type: 'checkbox', name: 'protect'}),
          ' Protected (reset and destroy refused)')),
      el('div', {class: 'row'}, el('button', {type: 'submit', id: 'create-submit', text: 'Create branch'})),
      el('div', {id: 'create-status', role: 'status', 'aria-live': 'polite'}));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.create();
    });
    form.querySelector('#create-source').addEventListener('change', () => this.atHint());
    const table = el('table', {id: 'servers-table', class: 'servers'},
      el('caption', {text: 'PostgreSQL servers: sources and their branches'}),
      el('thead', {}, el('tr', {}, ...['Name', 'State', 'Port', 'Connection URI', 'Age', 'Time left', 'Protected',
        'Unique space', 'Actions'].map((h) => el('th', {scope: 'col', text: h})))),
      el('tbody', {id: 'servers-body'}));
    main.replaceChildren(el('h1', {text: 'Servers'}), form,
      el('div', {class: 'table-wrap'}, table),
      el('p', {id: 'servers-empty', class: 'help', hidden: true,
        text: 'No PostgreSQL server yet: make a source with clonefs pg init or clonefs pg import.'}));
  },

  async refresh() {
    const [list, snaps] = await Promise.all([call('GET', '/v1/pg/servers'), call('GET', '/v1/snapshots')]);
    this.list = list;
    this.snapshots = snaps;
    this.fill();
  },

  fill() {
    const select = document.getElementById('create-source');
    const sources = this.list.filter((s) => s.role !== 'branch').map((s) => s.name);
    const chosen = select.value;
    if (select.options.length !== sources.length || [...select.options].some((o, i) => o.value !== sources[i])) {
      select.replaceChildren(...sources.map((n) => el('option', {value: n, text: n})));
      if (sources.includes(chosen)) {
        select.value = chosen;
      }
    }
    this.atHint(); // snapshots come and go: every refresh
    document.getElementById('servers-empty').hidden = this.list.length > 0;
    const body = document.getElementById('servers-body');
    const rows = new Map([...body.rows].map((r) => [r.dataset.name, r]));
    // sources first, each followed by its branches
    const ordered = [];
    for (const s of this.list.filter((x) => x.role !== 'branch')) {
      ordered.push(s, ...this.list.filter((b) => b.role === 'branch' && b.source === s.name));
    }
    for (const b of this.list) {
      if (!ordered.includes(b)) {
        ordered.push(b);
      }
    }
    let at = 0;
    for (const s of ordered) {
      let r = rows.get(s.name);
      if (!r) {
        r = this.row(s);
      }
      rows.delete(s.name);
      this.update(r, s);
      if (body.rows[at] !== r) {
        body.insertBefore(r, body.rows[at] || null);
      }
      at++;
    }
    for (const r of rows.values()) {
      r.remove();
    }
    if (!this.marked) {
      // the first full table since the page loaded: ConsoleLoadIT reads this mark's time
      this.marked = true;
      performance.mark('clonefs-servers-rendered');
    }
  },

  atHint() {
    const source = document.getElementById('create-source').value;
    const srv = this.list.find((s) => s.name === source);
    const snaps = this.snapshots.filter((x) => x.volume === source);
    const at = document.getElementById('create-at');
    const help = document.getElementById('create-at-help');
    const history = srv && srv.history;
    at.disabled = !history && snaps.length === 0;
    help.textContent = history ? 'Its history is on: any moment since it started keeping WAL.'
      : snaps.length > 0 ? snaps.length + ' snapshot(s): the newest at or before this moment.'
        : 'This source has no snapshots or history: a branch of it is taken now.';
  },

  row(s) {
    const r = el('tr', {'data-name': s.name},
      el('th', {scope: 'row', class: 'name'}), el('td', {class: 'state'}), el('td', {class: 'port'}),
      el('td', {class: 'uri-cell'}), el('td', {class: 'age'}), el('td', {class: 'left'}),
      el('td', {class: 'protected'}), el('td', {class: 'unique'}), el('td', {class: 'actions'}));
    return r;
  },

  update(r, s) {
    const set = (cls, text) => {
      const c = r.querySelector('.' + cls);
      if (c.textContent !== text) {
        c.textContent = text;
      }
    };
    const nc = r.querySelector('.name');
    if (nc.dataset.role !== s.role) {
      nc.dataset.role = s.role;
      nc.replaceChildren(s.name, s.role === 'branch' ? '' : el('span', {class: 'tag', text: 'source'}));
    }
    set('state', s.state);
    r.querySelector('.state').dataset.state = s.state;
    set('port', String(s.port));
    const uc = r.querySelector('.uri-cell');
    if (uc.dataset.uri !== s.uri) {
      uc.dataset.uri = s.uri;
      uc.replaceChildren(uriField(s.uri, 'uri-' + s.name, 'connection URI of ' + s.name));
    }
    set('age', duration(s.ageSeconds));
    set('left', s.expiresAt ? duration((Date.parse(s.expiresAt) - Date.now()) / 1000) : '—');
    set('protected', s.protected ? 'yes' : 'no');
    set('unique', bytes(s.uniqueBytes));
    const sig = [s.state, s.protected, s.role].join('/');
    const ac = r.querySelector('.actions');
    if (ac.dataset.sig !== sig) {
      ac.dataset.sig = sig;
      ac.replaceChildren(...this.actions(s));
    }
  },

  actions(s) {
    const b = (verb, label, fn, cls) => el('button', {type: 'button', class: cls || 'quiet', 'data-action': verb,
      'aria-label': label + ' ' + s.name, text: label, onclick: fn});
    const out = [];
    if (s.state === 'stopped') {
      out.push(b('start', 'Start', () => this.act(s, 'start')));
    } else {
      if (s.state === 'running') {
        out.push(b('suspend', 'Suspend', () => this.act(s, 'suspend')));
      }
      out.push(b('stop', 'Stop', () => this.act(s, 'stop')));
    }
    out.push(s.protected ? b('unprotect', 'Unprotect', () => this.act(s, 'unprotect'))
      : b('protect', 'Protect', () => this.act(s, 'protect')));
    if (s.role === 'branch') {
      out.push(b('reset', 'Reset', () => this.reset(s)));
    }
    out.push(b('destroy', 'Destroy', () => this.destroy(s), 'danger'));
    return out;
  },

  async act(s, verb) {
    clearError();
    try {
      await call('POST', '/v1/pg/servers/' + encodeURIComponent(s.name) + '/' + verb);
      await this.refresh();
    } catch (e) {
      showError(e.message);
    }
  },

  async reset(s) {
    const ok = await confirmAction('Reset ' + s.name + '?',
      'Everything written to ' + s.name + ' since it was made is lost (' + bytes(s.uniqueBytes)
      + ' of its own data); it goes back to ' + (s.snapshot || 'its source') + '. Its clients are disconnected.', 'Reset');
    if (ok) {
      await this.act(s, 'reset');
    }
  },

  async destroy(s) {
    const what = s.role === 'branch'
      ? 'Branch ' + s.name + ' and all its data (' + bytes(s.uniqueBytes) + ' its own) are deleted for good; '
        + s.uri + ' stops answering.'
      : 'Source ' + s.name + ', its server and its data are deleted for good; ' + s.uri + ' stops answering.';
    if (!await confirmAction('Destroy ' + s.name + '?', what, 'Destroy')) {
      return;
    }
    clearError();
    try {
      await call('DELETE', '/v1/pg/servers/' + encodeURIComponent(s.name));
      await this.refresh();
    } catch (e) {
      showError(e.message);
    }
  },

  async create() {
    const status = document.getElementById('create-status');
    const submit = document.getElementById('create-submit');
    const req = {
      source: document.getElementById('create-source').value,
      name: document.getElementById('create-name').value.trim(),
      protected: document.getElementById('create-protect').checked,
    };
    const ttl = document.getElementById('create-ttl').value.trim();
    if (ttl) {
      req.ttl = ttl;
    }
    const at = document.getElementById('create-at');
    if (!at.disabled && at.value) {
      req.at = new Date(at.value).toISOString();
    }
    const started = Date.now();
    const progress = el('progress', {'aria-label': 'starting ' + req.name});
    const line = el('span', {text: 'Starting ' + req.name + ' from ' + req.source + '…'});
    status.className = 'pending';
    status.replaceChildren(progress, ' ', line);
    const tick = setInterval(() => {
      line.textContent = 'Starting ' + req.name + ' from ' + req.source + '… ' + Math.round((Date.now() - started) / 1000) + ' s';
    }, 1000);
    submit.disabled = true;
    try {
      const b = await call('POST', '/v1/pg/branches', req);
      status.className = 'done';
      status.replaceChildren(el('span', {text: b.name + ' answers at '}), uriField(b.uri, 'created-uri', 'connection URI of ' + b.name),
        el('span', {text: ' (' + ((Date.now() - started) / 1000).toFixed(1) + ' s)'}));
      document.getElementById('create-name').value = '';
      await this.refresh();
    } catch (e) {
      status.className = 'error';
      status.replaceChildren(el('span', {id: 'create-error', text: e.message}));
    } finally {
      clearInterval(tick);
      submit.disabled = false;
    }
  },
};

// ---- events page ---------------------------------------------------------------------------

const events = {
  last: 0,
  all: [],

  render() {
    this.last = 0;
    this.all = [];
    const filter = el('input', {id: 'events-filter', type: 'search', placeholder: 'name or event', autocomplete: 'off'});
    filter.addEventListener('input', () => this.fill());
    main.replaceChildren(el('h1', {text: 'Events'}),
      el('div', {class: 'row'}, el('label', {for: 'events-filter', text: 'Filter'}), filter),
      el('div', {class: 'table-wrap'}, el('table', {id: 'events-table'},
        el('caption', {text: 'The daemon\'s event log, newest first'}),
        el('thead', {}, el('tr', {}, ...['#', 'Time', 'Event', 'Name', 'Details'].map((h) => el('th', {scope: 'col', text: h})))),
        el('tbody', {id: 'events-body'}))));
  },

  async refresh() {
    for (;;) {
      const p = await call('GET', '/v1/events?since=' + this.last + '&limit=1000');
      this.all.push(...p.events);
      const more = p.events.length === 1000;
      this.last = p.last;
      if (!more) {
        break;
      }
    }
    if (this.all.length > 5000) {
      this.all.splice(0, this.all.length - 5000);
    }
    this.fill();
  },

  fill() {
    const f = document.getElementById('events-filter').value.trim().toLowerCase();
    const shown = this.all.filter((e) => !f || (e.name || '').toLowerCase().includes(f) || e.type.toLowerCase().includes(f));
    const body = document.getElementById('events-body');
    const key = shown.length + ':' + (shown.length ? shown[shown.length - 1].seq : 0) + ':' + f;
    if (body.dataset.key === key) {
      return;
    }
    body.dataset.key = key;
    body.replaceChildren(...shown.slice().reverse().slice(0, 500).map((e) => el('tr', {'data-seq': e.seq},
      el('td', {text: String(e.seq)}), el('td', {text: new Date(e.time).toLocaleString()}),
      el('td', {class: 'type', text: e.type}), el('td', {class: 'name', text: e.name || ''}),
      el('td', {class: 'details', text: Object.entries(e.details || {}).filter(([, v]) => v !== null)
        .map(([k, v]) => k + '=' + (typeof v === 'object' ? JSON.stringify(v) : v)).join(' ')}))));
  },
};

// ---- routing -------------------------------------------------------------------------------

const pages = {servers, events};

async function poll() {
  clearTimeout(timer);
  const p = page;
  try {
    await p.refresh();
  } catch (e) {
    if (e.status !== 0 && e.status !== 401) {
      showError(e.message);
    }
  }
  if (p === page) {
    timer = setTimeout(poll, POLL_MS);
  }
}

function route() {
  const name = (location.hash || '#servers').substring(1);
  page = pages[name] || servers;
  for (const k of Object.keys(pages)) {
    const a = document.getElementById('nav-' + k);
    if (pages[k] === page) {
      a.setAttribute('aria-current', 'page');
    } else {
      a.removeAttribute('aria-current');
    }
  }
  clearError();
  page.render();
  poll();
}

window.addEventListener('hashchange', route);
session().then(route, () => {});
