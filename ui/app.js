// ringlog's call-log page: plain JavaScript, no build step.
//
//   /ui/?lead_id=5#token=uis....   one lead: its calls, tasks, a call-back button
//   /ui/?phone=+36301234567#token=  the same, found by number
//   /ui/#token=...                  every call, newest first, and calls in progress
//
// The token is a UI session (POST /v1/ui/sessions by the CRM's backend). It
// is read from the URL fragment (never sent to a server or a log), kept in
// sessionStorage, and sent as "Authorization: Bearer". Recordings play from
// their signed play_url, since an <audio> element cannot send headers.
'use strict';

const params = new URLSearchParams(location.search);
const state = { token: readToken(), lead: null, cursor: null, agentUser: null };
const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function readToken() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const token = hash.get('token') || params.get('token');
  if (token) {
    sessionStorage.setItem('ringlog-token', token);
    history.replaceState(null, '', location.pathname + location.search);
  }
  return token || sessionStorage.getItem('ringlog-token');
}

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error;
  }
}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${state.token}`, ...(options.headers || {}) };
  if (options.body) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { ...options, headers });
  const type = response.headers.get('Content-Type') || '';
  const body = type.includes('json') ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// ---- small helpers ---------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

// A name in any script (Hebrew, Arabic, Ukrainian…) keeps its own direction.
const named = (text) => el('bdi', { dir: 'auto', textContent: text || '' });
const phone = (e164, raw) => el('span', { className: 'phone', textContent: e164 ? `+${e164}` : raw || '' });

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '';
  const m = Math.floor(seconds / 60), s = seconds % 60;
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${String(s).padStart(2, '0')}`
    : `${m}:${String(s).padStart(2, '0')}`;
}

function notice(text, isError = true) {
  const p = document.getElementById('notice');
  p.textContent = text;
  p.className = isError ? 'notice error' : 'notice';
  p.hidden = !text;
}

// What a person can do about an error, in words.
function explain(error) {
  if (error.status === 401 && /expired/.test(error.message)) return 'Your session has expired: reload the page from the CRM.';
  if (error.status === 401) return 'This page needs a valid session from the CRM (the link is incomplete or wrong).';
  if (error.status === 503) return 'ringlog cannot reach its database right now. Try again in a minute.';
  return error.message;
}

// ---- recordings --------------------------------------------------------------

const recordingErrors = {
  url_expired: 'This play link has expired: reload the page.',
  invalid_signature: 'This play link is not valid: reload the page.',
  upstream_auth_failed: 'The PBX refused ringlog\'s credentials for this recording.',
  upstream_rejected_ref: 'The PBX does not know this recording (it may have been deleted).',
  upstream_timeout: 'The PBX did not send the recording in time. Try again.',
  upstream_error: 'The PBX could not send the recording. Try again later.',
  not_found: 'This recording does not exist.',
};

// An <audio> element only says "error": ask the URL what went wrong.
async function explainRecording(url, target) {
  let text = 'The recording cannot be played.';
  try {
    const response = await fetch(url, { headers: { Range: 'bytes=0-0' } });
    const body = (response.headers.get('Content-Type') || '').includes('json') ? await response.json() : null;
    if (body && recordingErrors[body.error]) text = recordingErrors[body.error];
    else if (response.status === 403) text = recordingErrors.url_expired;
    else if (body && body.message) text = body.message;
  } catch (e) { /* the network itself failed: keep the plain sentence */ }
  target.replaceChildren(el('span', { className: 'rec-error', textContent: text }));
}

function recordingCell(call) {
  const cell = el('td');
  for (const rec of call.recordings || []) {
    if (rec.play_url) {
      const audio = el('audio', { controls: true, preload: 'none', src: rec.play_url, dataset: { recording: rec.id } });
      const slot = el('div', {}, audio);
      audio.addEventListener('error', () => explainRecording(rec.play_url, slot));
      cell.append(slot);
    } else if (rec.state === 'failed') {
      cell.append(el('span', { className: 'rec-error', textContent: rec.error ? `Not available: ${rec.error}` : 'Not available' }));
    }
  }
  return cell;
}

// ---- the call log ------------------------------------------------------------

function otherParty(call) {
  const lead = call.lead;
  const number = call.direction === 'out' ? phone(call.callee_e164, call.callee) : phone(call.caller_e164, call.caller);
  if (lead && lead.name) return el('span', {}, named(lead.name), ' ', el('span', { className: 'muted' }, number));
  if (call.direction === 'in' && call.caller_name) return el('span', {}, named(call.caller_name), ' ', number);
  return number;
}

function callRow(call) {
  const arrow = { in: '↙', out: '↗', internal: '⇄' }[call.direction] || '';
  const label = { in: 'incoming', out: 'outgoing', internal: 'internal' }[call.direction] || '';
  const agent = call.agent_name || call.agent_user || call.agent || '';
  return el('tr', { dataset: { callId: call.id } },
    el('td', { className: 'dir', title: label, textContent: arrow }),
    el('td', {}, el('time', { dateTime: call.started_at, textContent: when.format(new Date(call.started_at)) })),
    el('td', {}, otherParty(call)),
    el('td', {}, named(agent)),
    el('td', { textContent: duration(call.billable_s ?? call.duration_s) }),
    el('td', {}, el('span', { className: `disp ${call.disposition}`, textContent: call.disposition.replace('_', ' ') })),
    recordingCell(call));
}

function callsQuery() {
  const q = new URLSearchParams({ limit: '50' });
  if (state.lead) q.set('lead_id', state.lead.id);
  else if (params.get('phone')) q.set('phone', params.get('phone'));
  for (const key of ['source', 'agent']) if (params.get(key)) q.set(key, params.get(key));
  if (state.cursor) q.set('cursor', state.cursor);
  return q;
}

async function loadCalls(reset = false) {
  if (reset) state.cursor = null;
  const body = await api(`/v1/calls?${callsQuery()}`);
  const tbody = document.querySelector('#calls tbody');
  if (reset) tbody.replaceChildren();
  tbody.append(...body.calls.map(callRow));
  state.cursor = body.next_cursor;
  document.getElementById('more').hidden = !state.cursor;
  document.getElementById('calls-empty').hidden = tbody.children.length > 0;
}

// ---- the lead, its tasks, calling back -----------------------------------------

async function loadLead() {
  if (params.get('lead_id')) return api(`/v1/leads/${encodeURIComponent(params.get('lead_id'))}`);
  if (params.get('phone')) {
    const q = new URLSearchParams({ phone: params.get('phone') });
    if (params.get('source')) q.set('source', params.get('source'));
    const body = await api(`/v1/leads?${q}`);
    return (body.leads || [])[0] || null;
  }
  return null;
}

function showLead(lead) {
  document.getElementById('lead').hidden = false;
  document.getElementById('lead-name').textContent = lead ? lead.name || `+${lead.phone}` : params.get('phone');
  document.getElementById('lead-company').textContent = lead ? lead.company || '' : '';
  document.getElementById('lead-phone').textContent = lead ? `+${lead.phone}` : '';
  const crm = document.getElementById('lead-crm');
  if (lead && lead.crm_url) { crm.href = lead.crm_url; crm.hidden = false; }
  document.getElementById('calls-title').textContent = 'Calls with this contact';
}

async function callBack() {
  const button = document.getElementById('call-back'), status = document.getElementById('call-status');
  const target = state.lead ? `+${state.lead.phone}` : params.get('phone');
  button.disabled = true;
  status.textContent = 'Asking the PBX to ring your phone…';
  try {
    const body = { target };
    if (state.lead) body.lead_id = state.lead.id;
    if (params.get('source')) body.source = params.get('source');
    if (params.get('agent')) body.agent = params.get('agent');
    await api('/v1/click2call', { method: 'POST', body: JSON.stringify(body) });
    status.textContent = 'Your phone is ringing: pick it up and the call to the contact starts.';
  } catch (error) {
    const words = {
      agent_offline: 'Your phone is offline: log in to your extension and try again.',
      agent_blocked: 'Your extension may not place click-to-call calls (ask an administrator).',
      invalid_params: 'The PBX refused the number.',
      upstream_timeout: 'The PBX did not answer in time. Try again.',
      not_configured: 'Click-to-call is not set up for this PBX.',
    };
    status.textContent = words[error.code] || explain(error);
  } finally {
    button.disabled = false;
  }
}

async function loadTasks() {
  if (!state.lead) return;
  const body = await api(`/v1/tasks?${new URLSearchParams({ lead_id: state.lead.id, status: 'open' })}`);
  const list = document.getElementById('task-list');
  list.replaceChildren(...body.tasks.map((task) => {
    const done = el('button', { type: 'button', className: 'secondary', textContent: 'Done' });
    done.addEventListener('click', async () => {
      done.disabled = true;
      try { await api(`/v1/tasks/${task.id}/done`, { method: 'POST' }); await loadTasks(); } catch (e) { notice(explain(e)); done.disabled = false; }
    });
    const missed = task.call ? when.format(new Date(task.call.started_at)) : when.format(new Date(task.created_at));
    return el('li', { dataset: { taskId: task.id } }, el('span', {}, `Missed call, ${missed}`, task.assignee ? ' — ' : '', task.assignee ? named(task.assignee) : null), done);
  }));
  document.getElementById('tasks').hidden = body.tasks.length === 0;
}

// ---- calls in progress -----------------------------------------------------------

function showLive(calls) {
  const list = document.getElementById('live-list');
  list.replaceChildren(...calls.map((c) => el('li', { dataset: { ivrid: c.call_id } },
    el('span', {}, c.lead_name ? named(c.lead_name) : phone(c.phone_e164, c.phone), ' → ', named(c.agent || c.did || '')),
    el('span', { className: 'badge', textContent: c.status }))));
  document.getElementById('live-count').textContent = String(calls.length);
}

async function watchLive() {
  document.getElementById('live').hidden = false;
  const refresh = async () => showLive((await api('/v1/calls/live')).calls);
  try { await refresh(); } catch (e) { document.getElementById('live').hidden = true; return; }
  // EventSource cannot send headers: the short-lived session goes in the URL.
  const events = new EventSource(`/v1/calls/live/stream?${new URLSearchParams({ token: state.token })}`);
  events.addEventListener('live', (e) => showLive(JSON.parse(e.data).calls));
  events.onerror = () => { /* the browser reconnects by itself */ };
}

// ---- start ----------------------------------------------------------------------------

async function start() {
  if (!state.token) { notice('This page needs a session from the CRM: open it from the CRM (…/ui/#token=…).'); return; }
  document.getElementById('more').addEventListener('click', () => loadCalls().catch((e) => notice(explain(e))));
  document.getElementById('call-back').addEventListener('click', callBack);
  try {
    if (params.get('lead_id') || params.get('phone')) {
      state.lead = await loadLead();
      showLead(state.lead);
      await loadTasks();
    } else {
      watchLive();
    }
    await loadCalls(true);
  } catch (error) {
    notice(explain(error));
  }
}

start();
