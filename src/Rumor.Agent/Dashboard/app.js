// The Rumor dashboard: plain JavaScript, no build step. Live updates come from the agent's
// server-sent event stream (/v1/stream); status and charts poll /v1/status once a second.
// When the agent requires a token (it answers 401), the page asks for it and keeps it in
// sessionStorage (gone when the tab closes); every request sends it as 'Authorization: Bearer'.
// EventSource cannot send that header, so the stream is read with fetch and parsed here.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const history = { in: [], out: [], rtt: [] };
  let lastCounters = null;
  let lastStatusAt = 0;
  let kvPrefix = '';

  function text(tag, value, cls) {
    const el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  }

  function ago(ms) {
    if (ms < 1000) return ms + ' ms';
    if (ms < 120000) return Math.round(ms / 1000) + ' s';
    return Math.round(ms / 60000) + ' min';
  }

  const tokenKey = 'rumor-token';
  let tokenWaiters = [];

  function authHeaders(headers) {
    const token = sessionStorage.getItem(tokenKey);
    const all = Object.assign({}, headers || {});
    if (token) all.Authorization = 'Bearer ' + token;
    return all;
  }

  // Shows the token form (once) and resolves when the user has given a token.
  function needToken() {
    const form = $('token-form');
    if (form.hidden) {
      $('token-error').textContent = sessionStorage.getItem(tokenKey) ? 'the agent refused this token' : '';
      form.hidden = false;
      $('connection').className = 'badge down';
      $('connection').textContent = 'token needed';
      $('token-input').focus();
    }
    return new Promise((resolve) => tokenWaiters.push(resolve));
  }

  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = $('token-input').value.trim();
    if (!value) return;
    sessionStorage.setItem(tokenKey, value);
    $('token-input').value = '';
    $('token-form').hidden = true;
    const waiters = tokenWaiters;
    tokenWaiters = [];
    waiters.forEach((resolve) => resolve());
    refreshKv().catch(() => {});
    loadEventHistory().catch(() => {});
    tick();
  });

  // A 401 to a request sent with a token the user has replaced since says nothing about the new
  // token: it must not bring the form back (a tick in flight with a wrong token used to do that,
  // after the right one had been given). Such a request is dropped; the next one carries the new token.
  function tokenReplacedSince(sent) {
    return sessionStorage.getItem(tokenKey) !== sent;
  }

  async function api(path, options) {
    const init = Object.assign({ cache: 'no-store' }, options || {});
    const sent = sessionStorage.getItem(tokenKey);
    init.headers = authHeaders(init.headers);
    const response = await fetch(path, init);
    if (response.status === 401) {
      if (!tokenReplacedSince(sent)) needToken();
      throw new Error(path + ': 401 (token needed)');
    }
    return response;
  }

  async function getJson(path) {
    const response = await api(path);
    if (!response.ok) throw new Error(path + ': ' + response.status);
    return response.json();
  }

  async function refreshMembers() {
    const members = await getJson('/v1/members');
    const body = document.querySelector('#members tbody');
    body.replaceChildren(...members.map((m) => {
      const row = document.createElement('tr');
      row.dataset.name = m.name;
      row.dataset.state = m.state;
      row.append(text('td', m.name + (m.isLocal ? ' (this node)' : '')), text('td', m.address));
      const state = document.createElement('td');
      state.append(text('span', m.state, 'state ' + m.state));
      row.append(state, text('td', String(m.incarnation)),
        text('td', Object.entries(m.tags || {}).map(([k, v]) => k + '=' + v).join(', ')),
        text('td', ago(m.stateChangedMs)));
      return row;
    }));
    const counts = {};
    members.forEach((m) => { counts[m.state] = (counts[m.state] || 0) + 1; });
    $('member-counts').textContent = Object.entries(counts).map(([s, n]) => n + ' ' + s).join(', ');
  }

  async function refreshKv() {
    const entries = await getJson('/v1/kv?prefix=' + encodeURIComponent(kvPrefix));
    const body = document.querySelector('#kv tbody');
    body.replaceChildren(...entries.map((e) => {
      const row = document.createElement('tr');
      row.dataset.owner = e.owner;
      row.dataset.key = e.key;
      row.append(text('td', e.owner), text('td', e.key),
        text('td', e.value !== undefined ? e.value : '(base64) ' + e.valueBase64, 'value'), text('td', String(e.version)));
      return row;
    }));
  }

  // A chart over the last historySeconds: time runs left to right and ends at 'now'; the x axis is
  // labelled in seconds ago and the y axis with 0 and the maximum, both outside the plot area, so
  // no label covers a line. Points sit at the time they were sampled (a paused tab leaves a gap).
  const historySeconds = 60;
  const plot = { left: 40, right: 294, top: 6, bottom: 84 };
  const svgNs = 'http://www.w3.org/2000/svg';

  function svgText(x, y, value, cls, anchor) {
    const label = document.createElementNS(svgNs, 'text');
    label.setAttribute('x', String(x));
    label.setAttribute('y', String(y));
    label.setAttribute('class', cls);
    label.setAttribute('text-anchor', anchor);
    label.textContent = value;
    return label;
  }

  function svgLine(x1, y1, x2, y2, cls) {
    const line = document.createElementNS(svgNs, 'line');
    line.setAttribute('x1', String(x1)); line.setAttribute('y1', String(y1));
    line.setAttribute('x2', String(x2)); line.setAttribute('y2', String(y2));
    line.setAttribute('class', cls);
    return line;
  }

  function compact(value) {
    if (value >= 1e6) return (value / 1e6).toFixed(1) + 'M';
    if (value >= 1e4) return Math.round(value / 1e3) + 'k';
    if (value >= 100) return String(Math.round(value));
    return value.toFixed(value >= 10 ? 0 : 1);
  }

  function drawChart(svg, series, unit) {
    const now = performance.now();
    const all = series.flatMap((s) => s.values.map((p) => p.v));
    const max = Math.max(1, ...all);
    const width = plot.right - plot.left;
    const height = plot.bottom - plot.top;
    const x = (t) => plot.right - ((now - t) / 1000) * width / historySeconds;
    const y = (v) => plot.bottom - v * height / max;
    svg.replaceChildren();
    for (let ago = 0; ago <= historySeconds; ago += 15) {
      const at = plot.right - ago * width / historySeconds;
      svg.append(svgLine(at, plot.top, at, plot.bottom, 'grid'));
      svg.append(svgText(at, plot.bottom + 12, ago === 0 ? 'now' : '-' + ago + ' s', 'axis axis-x', ago === historySeconds ? 'start' : ago === 0 ? 'end' : 'middle'));
    }
    svg.append(svgLine(plot.left, plot.bottom, plot.right, plot.bottom, 'axis-line'));
    svg.append(svgLine(plot.left, plot.top, plot.left, plot.bottom, 'axis-line'));
    svg.append(svgText(plot.left - 4, plot.top + 7, compact(max), 'axis axis-y', 'end'));
    svg.append(svgText(plot.left - 4, plot.bottom, '0', 'axis axis-y', 'end'));
    svg.append(svgText(plot.left - 4, (plot.top + plot.bottom) / 2 + 3, unit, 'axis axis-unit', 'end'));
    for (const s of series) {
      const visible = s.values.filter((p) => now - p.t <= historySeconds * 1000);
      if (visible.length < 2) continue;
      const line = document.createElementNS(svgNs, 'polyline');
      line.setAttribute('points', visible.map((p) => x(p.t).toFixed(1) + ',' + y(p.v).toFixed(1)).join(' '));
      line.setAttribute('class', s.cls);
      svg.append(line);
    }
  }

  function push(list, value) {
    const now = performance.now();
    list.push({ t: now, v: value });
    while (list.length > 0 && now - list[0].t > (historySeconds + 5) * 1000) list.shift();
  }

  async function refreshStatus() {
    const status = await getJson('/v1/status');
    const now = performance.now();
    $('node-name').textContent = status.name;
    $('node-address').textContent = status.address + ' · preset ' + status.preset + ' · v' + status.version + ' · up ' + ago(status.uptimeMs);
    const c = status.convergence;
    const conv = $('convergence');
    conv.className = 'badge ' + (c.converged ? 'converged' : 'diverged');
    conv.textContent = c.converged ? 'state converged' : 'converging (' + (c.differing.length + c.unknown.length) + ' behind)';
    conv.dataset.converged = String(c.converged);
    $('health').textContent = 'local health ' + status.localHealth.score + '/' + status.localHealth.max;
    if (lastCounters) {
      const seconds = Math.max(0.001, (now - lastStatusAt) / 1000);
      push(history.in, (status.counters.bytesReceived - lastCounters.bytesReceived) / seconds);
      push(history.out, (status.counters.bytesSent - lastCounters.bytesSent) / seconds);
      $('traffic-now').textContent = Math.round(history.in[history.in.length - 1].v) + ' in, ' + Math.round(history.out[history.out.length - 1].v) + ' out';
    }
    const rtts = status.probeRttMs || [];
    if (rtts.length > 0) {
      const recent = rtts.slice(-5);
      const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
      push(history.rtt, mean);
      $('rtt-now').textContent = mean.toFixed(2) + ' ms';
    }
    lastCounters = status.counters;
    lastStatusAt = now;
    drawChart($('traffic-chart'), [{ values: history.in, cls: 'in' }, { values: history.out, cls: 'out' }], 'B/s');
    drawChart($('rtt-chart'), [{ values: history.rtt, cls: 'rtt' }], 'ms');
  }

  function addEvent(line, at) {
    const list = $('events');
    list.prepend(text('li', (at ? new Date(at) : new Date()).toISOString().substring(11, 23) + '  ' + line));
    while (list.children.length > 200) list.lastChild.remove();
  }

  function describeUserEvent(u) {
    return 'event ' + u.name + ' from ' + u.origin + ': ' + (u.payload !== undefined ? u.payload : '(binary)') + ' (lamport ' + u.lamportTime + ')';
  }

  // The events the agent received before this page opened (GET /v1/events, newest first), shown
  // once, oldest at the bottom, with their own times; ids already shown by the stream are skipped.
  const shownEventIds = new Set();
  async function loadEventHistory() {
    const events = await getJson('/v1/events?limit=100');
    const fresh = events.filter((u) => !shownEventIds.has(u.id)).reverse();
    const list = $('events');
    const live = Array.from(list.children);
    list.replaceChildren();
    for (const u of fresh) {
      shownEventIds.add(u.id);
      addEvent(describeUserEvent(u), u.receivedAt);
    }
    live.reverse().forEach((item) => list.prepend(item));
    list.dataset.history = String(fresh.length);
  }

  const streamHandlers = {
    member: (data) => {
      const m = JSON.parse(data);
      addEvent('member ' + m.name + ' ' + m.kind + ' (' + (m.previous || 'new') + ' → ' + m.state + ')');
      refreshMembers().catch(() => {});
    },
    user: (data) => {
      const u = JSON.parse(data);
      if (shownEventIds.has(u.id)) return;
      shownEventIds.add(u.id);
      addEvent(describeUserEvent(u), u.receivedAt);
    },
    kv: (data) => {
      const k = JSON.parse(data);
      addEvent('kv ' + k.owner + '/' + k.key + (k.deleted ? ' deleted' : ' = ' + (k.newValue !== undefined ? k.newValue : '(binary)')) + ' v' + k.version);
      refreshKv().catch(() => {});
    },
    dropped: (data) => {
      const d = JSON.parse(data);
      addEvent('this page fell behind: ' + d.dropped + ' event(s) dropped (' + d.option + ')');
      refreshMembers().catch(() => {});
      refreshKv().catch(() => {});
    },
  };

  // One server-sent event block: 'event:' names it, 'data:' lines carry it, ':' lines are comments.
  function dispatch(block) {
    let type = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
    const handler = streamHandlers[type];
    if (handler && data.length > 0) handler(data.join('\n'));
  }

  async function readStream() {
    const sent = sessionStorage.getItem(tokenKey);
    const response = await fetch('/v1/stream', { cache: 'no-store', headers: authHeaders({ Accept: 'text/event-stream' }) });
    if (response.status === 401) {
      if (!tokenReplacedSince(sent)) await needToken();
      return 'token';
    }
    if (!response.ok || !response.body) throw new Error('/v1/stream: ' + response.status);
    $('connection').className = 'badge live';
    $('connection').textContent = 'live';
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  async function connect() {
    for (;;) {
      try {
        if (await readStream() === 'token') continue;
      } catch (error) {
        console.warn(error);
      }
      $('connection').className = 'badge down';
      $('connection').textContent = 'reconnecting';
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  $('kv-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    kvPrefix = $('kv-prefix').value;
    refreshKv().catch(() => {});
  });

  $('kv-set').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('kv-error').textContent = '';
    const response = await api('/v1/kv/' + encodeURIComponent($('kv-key').value).replace(/%2F/g, '/'), {
      method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ value: $('kv-value').value }),
    }).catch((error) => ({ ok: false, statusText: error.message, json: () => Promise.reject(error) }));
    if (!response.ok) {
      const problem = await response.json().catch(() => ({ detail: response.statusText }));
      $('kv-error').textContent = problem.detail || problem.title;
    }
  });

  function tick() {
    Promise.all([refreshStatus(), refreshMembers()]).catch((error) => {
      if ($('token-form').hidden) {
        $('connection').className = 'badge down';
        $('connection').textContent = 'agent unreachable';
      }
      console.warn(error);
    });
  }

  connect();
  refreshKv().catch(() => {});
  loadEventHistory().catch(() => {});
  tick();
  setInterval(tick, 1000);
  setInterval(() => refreshKv().catch(() => {}), 5000);
}());
