// The console: hash-routed pages (#servers, #volumes, #pool, #remotes, #events) over the /v1 API,
// refreshed by polling (docs/console.md says why polling and not server-sent events).
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
    const table = el('table', {id: 'servers-table', class: 'servers cards'},
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
    // data-label: the column's name, shown before the value in the phone layout (cards)
    const r = el('tr', {'data-name': s.name},
      el('th', {scope: 'row', class: 'name'}), el('td', {class: 'state', 'data-label': 'State'}),
      el('td', {class: 'port', 'data-label': 'Port'}), el('td', {class: 'uri-cell', 'data-label': 'URI'}),
      el('td', {class: 'age', 'data-label': 'Age'}), el('td', {class: 'left', 'data-label': 'Time left'}),
      el('td', {class: 'protected', 'data-label': 'Protected'}), el('td', {class: 'unique', 'data-label': 'Unique space'}),
      el('td', {class: 'actions'}));
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
    const lc = r.querySelector('.left');
    if (lc.dataset.expires !== String(s.expiresAt)) {
      lc.dataset.expires = String(s.expiresAt);
      lc.title = s.expiresAt ? 'expires at ' + new Date(s.expiresAt).toLocaleString() : 'never expires';
    }
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
    out.push(el('button', {type: 'button', class: 'quiet', 'data-action': 'ttl', text: 'TTL…',
      'aria-label': 'Time to live of ' + s.name, onclick: () => this.ttl(s.name)}));
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

  /** Asks for a new time to live (from now, or none) and sets it. */
  async ttl(name) {
    const s = this.list.find((x) => x.name === name) || {name};
    const d = document.getElementById('ttl-dialog');
    const input = document.getElementById('ttl-value');
    document.getElementById('ttl-title').textContent = 'Time to live of ' + name;
    document.getElementById('ttl-now').textContent = s.expiresAt
      ? 'It expires in ' + duration((Date.parse(s.expiresAt) - Date.now()) / 1000) + ' (' + new Date(s.expiresAt).toLocaleString() + ').'
      : 'It never expires.';
    input.value = '';
    d.returnValue = '';
    const closed = new Promise((resolve) => d.addEventListener('close', () => resolve(d.returnValue === 'ok'), {once: true}));
    d.showModal();
    input.focus();
    if (!await closed) {
      return;
    }
    clearError();
    try {
      await call('POST', '/v1/pg/servers/' + encodeURIComponent(name) + '/ttl', {ttl: input.value.trim()});
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

// ---- volumes and snapshots page -------------------------------------------------------------

const volumes = {
  render() {
    this.key = null;
    main.replaceChildren(el('h1', {text: 'Volumes and snapshots'}),
      el('p', {class: 'help', id: 'volumes-help',
        text: 'Each volume with its snapshots; a clone (a branch) sits under the snapshot it was made from. '
          + 'Unique: the space only that dataset holds (freed if it alone were destroyed); referenced: all it reads.'}),
      el('div', {class: 'card tree-card'}, el('ul', {id: 'volumes-tree', class: 'tree',
        'aria-label': 'Volumes, their snapshots and the clones of each snapshot'})),
      el('p', {id: 'volumes-empty', class: 'help', hidden: true, text: 'No volume yet.'}));
  },

  async refresh() {
    const [d, pg] = await Promise.all([call('GET', '/v1/datasets'),
      call('GET', '/v1/pg/servers').catch(() => [])]); // no PostgreSQL manager: volumes only
    const key = JSON.stringify([d, pg.map((s) => [s.name, s.role, s.state])]);
    if (key === this.key) {
      return; // unchanged: keep the page (and its focus) as it is
    }
    this.key = key;
    this.fill(d, new Map(pg.map((s) => [s.name, s])));
  },

  fill(d, pg) {
    const byVolume = new Map();
    for (const snap of d.snapshots) {
      if (!byVolume.has(snap.volume)) {
        byVolume.set(snap.volume, []);
      }
      byVolume.get(snap.volume).push(snap);
    }
    const names = new Set(d.snapshots.map((x) => x.name));
    const clonesOf = new Map();
    for (const v of d.volumes) {
      if (v.origin && names.has(v.origin)) {
        if (!clonesOf.has(v.origin)) {
          clonesOf.set(v.origin, []);
        }
        clonesOf.get(v.origin).push(v);
      }
    }
    const line = (name, kind, x, extra) => el('div', {class: 'node'},
      el('span', {class: 'node-name', text: name}), el('span', {class: 'tag', text: kind}), extra || null,
      el('span', {class: 'node-space', text: 'unique ' + bytes(x.uniqueBytes) + ' · referenced ' + bytes(x.referencedBytes)}),
      el('span', {class: 'node-time', text: new Date(x.createdAt).toLocaleString()}));
    const seen = new Set();
    const volumeNode = (v, level) => {
      seen.add(v.name);
      const s = pg.get(v.name);
      const li = el('li', {'data-level': level, 'data-name': v.name,
        'data-kind': 'volume'}, line(v.name, s ? 'pg ' + s.role + ', ' + s.state : 'volume', v));
      const snaps = (byVolume.get(v.name) || []).slice().sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      if (snaps.length) {
        li.append(el('ul', {'aria-label': 'snapshots of ' + v.name}, ...snaps.map((snap) => snapshotNode(snap, level + 1))));
      }
      return li;
    };
    const snapshotNode = (snap, level) => {
      const li = el('li', {'data-level': level, 'data-name': snap.name, 'data-kind': 'snapshot'},
        line(snap.name, 'snapshot', snap));
      const clones = clonesOf.get(snap.name) || [];
      if (clones.length) {
        li.append(el('ul', {'aria-label': 'clones of ' + snap.name}, ...clones.map((c) => volumeNode(c, level + 1))));
      }
      return li;
    };
    const roots = d.volumes.filter((v) => !v.origin || !names.has(v.origin));
    const items = roots.map((v) => volumeNode(v, 1));
    // a cycle cannot happen, but a volume never reached must still be shown
    items.push(...d.volumes.filter((v) => !seen.has(v.name)).map((v) => volumeNode(v, 1)));
    document.getElementById('volumes-tree').replaceChildren(...items);
    document.getElementById('volumes-empty').hidden = d.volumes.length > 0;
  },
};

// ---- pool page -----------------------------------------------------------------------------

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    e.setAttribute(k, v);
  }
  for (const c of children) {
    e.append(c);
  }
  return e;
}

/**
 * An inline SVG chart of one series of the daemon's space samples, drawn by hand (no library): an
 * area from zero, its own scale (a pool on a large disk uses a sliver of it: one shared scale would
 * hide every change of the used space), the first and last time under it.
 */
export function seriesChart({id, samples, value, format, title, series, width, height = 160}) {
  const pad = {l: 72, r: 12, t: 10, b: 24};
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const t = samples.map((x) => Date.parse(x.time));
  const t0 = Math.min(...t);
  const t1 = Math.max(t0 + 1000, ...t);
  const v = samples.map(value);
  const top = Math.max(1, ...v) * 1.2;
  const X = (i) => (pad.l + (t[i] - t0) / (t1 - t0) * w).toFixed(1);
  const Y = (n) => (pad.t + h - n / top * h).toFixed(1);
  const line = v.map((n, i) => X(i) + ',' + Y(n)).join(' ');
  // drawn at the box's own width in pixels (not scaled), so that its text stays readable on a phone
  const chart = svg('svg', {id, width, height, viewBox: '0 0 ' + width + ' ' + height, role: 'img', class: 'chart',
    'aria-labelledby': id + '-title ' + id + '-desc'}, svg('title', {id: id + '-title'}), svg('desc', {id: id + '-desc'}));
  chart.querySelector('title').textContent = title;
  chart.querySelector('desc').textContent = samples.length + ' samples from ' + new Date(t0).toLocaleString() + ' to '
    + new Date(t1).toLocaleString() + '; lowest ' + format(Math.min(...v)) + ', highest ' + format(Math.max(...v))
    + ', now ' + format(v[v.length - 1]) + '.';
  for (const f of [0, 0.5, 1]) {
    chart.append(svg('line', {x1: pad.l, x2: pad.l + w, y1: Y(top * f), y2: Y(top * f), class: 'grid'}));
    const label = svg('text', {x: pad.l - 6, y: Number(Y(top * f)) + 4, 'text-anchor': 'end', class: 'axis'});
    label.textContent = format(Math.round(top * f));
    chart.append(label);
  }
  chart.append(
    svg('polygon', {points: X(0) + ',' + Y(0) + ' ' + line + ' ' + X(v.length - 1) + ',' + Y(0), class: series + '-area',
      'data-series': series}),
    svg('polyline', {points: line, class: series + '-line'}));
  const clock = {hour: '2-digit', minute: '2-digit', second: t1 - t0 < 600000 ? '2-digit' : undefined};
  for (const [i, anchor] of [[0, 'start'], [t.length - 1, 'end']]) {
    const label = svg('text', {x: X(i), y: height - 6, 'text-anchor': anchor, class: 'axis'});
    label.textContent = new Date(t[i]).toLocaleTimeString([], clock);
    chart.append(label);
  }
  return chart;
}

const pool = {
  render() {
    const section = (id, title) => el('section', {class: 'card', 'aria-labelledby': id + '-h'},
      el('h2', {id: id + '-h', text: title}), el('div', {id: id + '-box'}));
    main.replaceChildren(el('h1', {text: 'Pool'}),
      el('div', {class: 'stats', id: 'pool-stats'}),
      section('pool-used', 'Used space over time'),
      section('pool-free', 'Free space over time'),
      section('pool-backlog-chart', 'Reclaim backlog over time'),
      el('p', {class: 'help', id: 'pool-chart-note'}));
  },

  async refresh() {
    const [space, hist] = await Promise.all([call('GET', '/v1/space'), call('GET', '/v1/space/history')]);
    const stat = (id, label, value, help) => el('div', {class: 'stat', id},
      el('span', {class: 'stat-label', text: label}), el('span', {class: 'stat-value', text: value}),
      help ? el('span', {class: 'help', text: help}) : null);
    const total = space.usedBytes + space.freeBytes;
    document.getElementById('pool-stats').replaceChildren(
      stat('pool-used', 'Used', bytes(space.usedBytes), total > 0 ? (space.usedBytes / total * 100).toFixed(1) + ' % of ' + bytes(total) : ''),
      stat('pool-free', 'Free', bytes(space.freeBytes)),
      stat('pool-metadata', 'Metadata', bytes(space.metadataBytes)),
      stat('pool-backlog', 'Reclaim backlog', String(space.reclaimBacklog),
        space.reclaimBacklog > 0 ? 'tree nodes of destroyed data still to free' : 'nothing waiting to be freed'));
    const s = hist.samples;
    const width = Math.max(280, document.getElementById('pool-used-box').clientWidth);
    document.getElementById('pool-used-box').replaceChildren(seriesChart({id: 'pool-chart-used', samples: s,
      value: (x) => x.usedBytes, format: bytes, title: 'Used space of the pool over time', series: 'used', width}));
    document.getElementById('pool-free-box').replaceChildren(seriesChart({id: 'pool-chart-free', samples: s,
      value: (x) => x.freeBytes, format: bytes, title: 'Free space of the pool over time', series: 'free', width}));
    document.getElementById('pool-backlog-chart-box').replaceChildren(seriesChart({id: 'pool-chart-backlog', samples: s,
      value: (x) => x.reclaimBacklog, format: (n) => String(Math.round(n)), title: 'Reclaim backlog (tree nodes) over time',
      series: 'backlog', height: 110, width}));
    document.getElementById('pool-chart-note').textContent = 'One sample every ' + hist.intervalSeconds
      + ' s for the last ' + duration(hist.intervalSeconds * hist.capacity) + ', kept in the daemon while it runs; '
      + 'the last point is now. Each chart has its own scale.';
  },
};

// ---- remotes and cache page ----------------------------------------------------------------

const remotes = {
  render() {
    this.key = null;
    main.replaceChildren(el('h1', {text: 'Remotes and cache'}),
      el('div', {class: 'table-wrap'}, el('table', {id: 'remotes-table', class: 'cards'},
        el('caption', {text: 'S3 remotes snapshots are pushed to (clonefs remote add)'}),
        el('thead', {}, el('tr', {}, ...['Name', 'Endpoint', 'Bucket', 'Prefix', 'Region'].map((h) => el('th', {scope: 'col', text: h})))),
        el('tbody', {id: 'remotes-body'}))),
      el('p', {id: 'remotes-empty', class: 'help', hidden: true, text: 'No remote: add one with clonefs remote add.'}),
      el('section', {class: 'card cache', 'aria-labelledby': 'cache-h'},
        el('h2', {id: 'cache-h', text: 'Cache of blocks fetched from remotes'}),
        el('div', {class: 'stats', id: 'cache-stats'})));
  },

  async refresh() {
    const [list, cache] = await Promise.all([call('GET', '/v1/remotes'), call('GET', '/v1/cache')]);
    const key = JSON.stringify([list, cache]);
    if (key === this.key) {
      return;
    }
    this.key = key;
    document.getElementById('remotes-body').replaceChildren(...list.map((r) => el('tr', {'data-name': r.name},
      el('th', {scope: 'row', text: r.name}), el('td', {'data-label': 'Endpoint', text: r.endpoint}),
      el('td', {'data-label': 'Bucket', text: r.bucket}), el('td', {'data-label': 'Prefix', text: r.prefix || '—'}),
      el('td', {'data-label': 'Region', text: r.region}))));
    document.getElementById('remotes-empty').hidden = list.length > 0;
    const stat = (id, label, value) => el('div', {class: 'stat', id},
      el('span', {class: 'stat-label', text: label}), el('span', {class: 'stat-value', text: value}));
    document.getElementById('cache-stats').replaceChildren(
      stat('cache-remote', 'Blocks on remotes', String(cache.remoteBlocks)),
      stat('cache-cached', 'Cached', cache.cachedBlocks + ' blocks, ' + bytes(cache.cachedBytes)),
      stat('cache-fetches', 'Fetched', cache.fetches + ' times, ' + bytes(cache.fetchedBytes)),
      stat('cache-errors', 'Fetch errors', String(cache.fetchErrors)));
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
    const type = el('select', {id: 'events-type'}, el('option', {value: '', text: 'every event'}));
    type.addEventListener('change', () => this.fill());
    main.replaceChildren(el('h1', {text: 'Events'}),
      el('div', {class: 'row'}, el('label', {for: 'events-filter', text: 'Filter'}), filter,
        el('label', {for: 'events-type', text: 'Event'}), type,
        el('span', {id: 'events-live', class: 'help', role: 'status', text: ''})),
      el('div', {class: 'table-wrap'}, el('table', {id: 'events-table', class: 'cards'},
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
    const select = document.getElementById('events-type');
    const types = [...new Set(this.all.map((e) => e.type))].sort();
    if (select.options.length !== types.length + 1) {
      const chosen = select.value;
      select.replaceChildren(el('option', {value: '', text: 'every event'}), ...types.map((t) => el('option', {value: t, text: t})));
      select.value = chosen;
    }
    const t = select.value;
    document.getElementById('events-live').textContent = 'live: checked ' + new Date().toLocaleTimeString()
      + ', every ' + POLL_MS / 1000 + ' s';
    const shown = this.all.filter((e) => (!t || e.type === t)
      && (!f || (e.name || '').toLowerCase().includes(f) || e.type.toLowerCase().includes(f)));
    const body = document.getElementById('events-body');
    const key = shown.length + ':' + (shown.length ? shown[shown.length - 1].seq : 0) + ':' + f + ':' + t;
    if (body.dataset.key === key) {
      return;
    }
    body.dataset.key = key;
    body.replaceChildren(...shown.slice().reverse().slice(0, 500).map((e) => el('tr', {'data-seq': e.seq},
      el('td', {'data-label': '#', text: String(e.seq)}), el('td', {'data-label': 'Time', text: new Date(e.time).toLocaleString()}),
      el('td', {class: 'type', 'data-label': 'Event', text: e.type}), el('td', {class: 'name', 'data-label': 'Name', text: e.name || ''}),
      el('td', {class: 'details', 'data-label': 'Details', text: Object.entries(e.details || {}).filter(([, v]) => v !== null)
        .map(([k, v]) => k + '=' + (typeof v === 'object' ? JSON.stringify(v) : v)).join(' ')}))));
  },
};

// ---- routing -------------------------------------------------------------------------------

const pages = {servers, volumes, pool, remotes, events};

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
