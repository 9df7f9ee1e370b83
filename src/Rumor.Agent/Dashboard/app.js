// The Rumor dashboard: plain JavaScript, no build step. Live updates come from the agent's
// server-sent event stream (/v1/stream); status and charts poll /v1/status once a second.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const history = { in: [], out: [], rtt: [] };
  const historyMax = 60;
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

  async function getJson(path) {
    const response = await fetch(path, { cache: 'no-store' });
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

  function drawChart(svg, series) {
    const all = series.flatMap((s) => s.values);
    const max = Math.max(1, ...all);
    svg.replaceChildren();
    for (const s of series) {
      if (s.values.length < 2) continue;
      const points = s.values.map((v, i) => (i * 300 / (historyMax - 1)).toFixed(1) + ',' + (100 - v * 95 / max).toFixed(1)).join(' ');
      const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
      line.setAttribute('points', points);
      line.setAttribute('class', s.cls);
      svg.append(line);
    }
    const label = document.createElementNS('http://www.w3.org/2000/svg', 'text');
    label.setAttribute('x', '4'); label.setAttribute('y', '10'); label.setAttribute('font-size', '9');
    label.textContent = 'max ' + Math.round(max);
    svg.append(label);
  }

  function push(list, value) {
    list.push(value);
    while (list.length > historyMax) list.shift();
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
      $('traffic-now').textContent = Math.round(history.in[history.in.length - 1]) + ' in, ' + Math.round(history.out[history.out.length - 1]) + ' out';
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
    drawChart($('traffic-chart'), [{ values: history.in, cls: 'in' }, { values: history.out, cls: 'out' }]);
    drawChart($('rtt-chart'), [{ values: history.rtt, cls: 'rtt' }]);
  }

  function addEvent(line) {
    const list = $('events');
    list.prepend(text('li', new Date().toISOString().substring(11, 23) + '  ' + line));
    while (list.children.length > 200) list.lastChild.remove();
  }

  function connect() {
    const source = new EventSource('/v1/stream');
    source.onopen = () => { $('connection').className = 'badge live'; $('connection').textContent = 'live'; };
    source.onerror = () => { $('connection').className = 'badge down'; $('connection').textContent = 'reconnecting'; };
    source.addEventListener('member', (e) => {
      const m = JSON.parse(e.data);
      addEvent('member ' + m.name + ' ' + m.kind + ' (' + (m.previous || 'new') + ' → ' + m.state + ')');
      refreshMembers().catch(() => {});
    });
    source.addEventListener('user', (e) => {
      const u = JSON.parse(e.data);
      addEvent('event ' + u.name + ' from ' + u.origin + ': ' + (u.payload !== undefined ? u.payload : '(binary)') + ' (lamport ' + u.lamportTime + ')');
    });
    source.addEventListener('kv', (e) => {
      const k = JSON.parse(e.data);
      addEvent('kv ' + k.owner + '/' + k.key + (k.deleted ? ' deleted' : ' = ' + (k.newValue !== undefined ? k.newValue : '(binary)')) + ' v' + k.version);
      refreshKv().catch(() => {});
    });
  }

  $('kv-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    kvPrefix = $('kv-prefix').value;
    refreshKv().catch(() => {});
  });

  $('kv-set').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('kv-error').textContent = '';
    const response = await fetch('/v1/kv/' + encodeURIComponent($('kv-key').value).replace(/%2F/g, '/'), {
      method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ value: $('kv-value').value }),
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({ detail: response.statusText }));
      $('kv-error').textContent = problem.detail || problem.title;
    }
  });

  function tick() {
    Promise.all([refreshStatus(), refreshMembers()]).catch((error) => {
      $('connection').className = 'badge down';
      $('connection').textContent = 'agent unreachable';
      console.warn(error);
    });
  }

  connect();
  refreshKv().catch(() => {});
  tick();
  setInterval(tick, 1000);
  setInterval(() => refreshKv().catch(() => {}), 5000);
}());
