// ringlog's call-log page: plain JavaScript, no build step.
//
//   /ui/?lead_id=5#token=uis....   one lead: its calls, tasks, call back, open in CRM
//   /ui/?phone=+36301234567#token=  the same, found by number
//   /ui/#token=...                  every call, newest first, my missed calls, calls in progress
//
// Optional: lang=en|he|uk|hu|ru (else the browser's languages), source=,
// agent= (the agent using the page: the first agent filter, and whose phone
// rings on call back), and the filters q=, from=, to=, disposition=,
// direction=, by_agent= (kept in the address as they change, so a reload or
// a shared link keeps them).
//
// The token is a UI session (POST /v1/ui/sessions by the CRM's backend). It
// is read from the URL fragment (never sent to a server or a log), kept in
// sessionStorage, and sent as "Authorization: Bearer". Recordings play from
// their signed play_url, since an <audio> element cannot send headers.
'use strict';

const params = new URLSearchParams(location.search);
const WORDS = window.RINGLOG_I18N || { en: {} };
const LANG = pickLanguage();
const state = {
  token: readToken(), lead: null, cursor: null, seq: 0, user: null,
  agents: new Map(), // agent filter value -> label, from the calls seen
  extensions: new Map(), // extension -> the agent's name, for the live panel
  onLeadPage: Boolean(params.get('lead_id') || params.get('phone')),
};
state.user = sessionUser(state.token);
const whenFormat = new Intl.DateTimeFormat(LANG, {
  year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
});
const SPEEDS = [1, 1.5, 2];

// ---- language ----------------------------------------------------------------

function pickLanguage() {
  const wanted = [params.get('lang'), ...(navigator.languages || [navigator.language])];
  for (const tag of wanted) {
    if (!tag) continue;
    const primary = tag.toLowerCase().split(/[-_]/)[0];
    const code = primary === 'iw' ? 'he' : primary;
    if (WORDS[code]) return code;
  }
  return 'en';
}

// The word for KEY in the page's language (English when missing), with
// {name} replaced from VARS.
function t(key, vars = {}) {
  const text = (WORDS[LANG] && WORDS[LANG][key]) || (WORDS.en && WORDS.en[key]) || key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

function applyLanguage() {
  document.documentElement.lang = LANG;
  document.documentElement.dir = LANG === 'he' ? 'rtl' : 'ltr';
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-placeholder]')) node.placeholder = t(node.dataset.i18nPlaceholder);
  document.title = t('page_title');
}

// ---- the session ---------------------------------------------------------------

function readToken() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const token = hash.get('token') || params.get('token');
  if (token) {
    sessionStorage.setItem('ringlog-token', token);
    history.replaceState(null, '', location.pathname + location.search);
  }
  return token || sessionStorage.getItem('ringlog-token');
}

// The CRM user a UI session token names ("uis.<hex user>.<expires>.<mac>"),
// or null: only to offer "My calls"; the server decides what is allowed.
function sessionUser(token) {
  const m = /^uis\.([0-9a-f]+)\./.exec(token || '');
  if (!m || m[1].length % 2) return null;
  try {
    const bytes = new Uint8Array(m[1].match(/../g).map((h) => parseInt(h, 16)));
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes) || null;
  } catch (e) {
    return null;
  }
}

// ---- the API, and what a person can do about its errors ---------------------------

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || (status ? `HTTP ${status}` : 'network'));
    this.status = status;
    this.code = body && body.error;
    this.parameter = body && body.parameter;
  }
}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${state.token}`, ...(options.headers || {}) };
  if (options.body) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch (e) {
    throw new ApiError(0, null); // the network itself failed
  }
  const type = response.headers.get('Content-Type') || '';
  const body = type.includes('json') ? await response.json().catch(() => null) : null;
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// An error in words, and whether trying again can help. Never the server's
// own message: that is for administrators and logs.
function explain(error) {
  if (!(error instanceof ApiError)) return { text: t('err_server'), retry: true };
  if (error.status === 0) return { text: t('err_network'), retry: true };
  if (error.status === 401) return { text: t(/expired/i.test(error.message) ? 'err_session_expired' : 'err_session_invalid'), retry: false };
  if (error.status === 403) return { text: t('err_forbidden'), retry: false };
  if (error.status === 400 && (error.parameter === 'from' || error.parameter === 'to')) return { text: t('err_bad_dates'), retry: false };
  if (error.status === 400 && error.parameter === 'q') return { text: t('err_bad_search'), retry: false };
  if (error.status === 503) return { text: t('err_unavailable'), retry: true };
  return { text: t('err_server'), retry: true };
}

// Shows TEXT at the top; with RETRY, a "Try again" button that runs it.
function notice(text, retry = null) {
  const box = document.getElementById('notice');
  const button = document.getElementById('notice-retry');
  document.getElementById('notice-text').textContent = text || '';
  box.hidden = !text;
  button.hidden = !retry;
  button.onclick = retry ? () => { notice(''); retry(); } : null;
}

function fail(error, retry) {
  const why = explain(error);
  notice(why.text, why.retry ? retry : null);
}

// ---- small helpers -----------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key in node && !key.startsWith('aria')) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

// A name in any script (Hebrew, Ukrainian…) keeps its own direction.
const named = (text) => el('bdi', { dir: 'auto', textContent: text || '' });
// Numbers, times and dates are written left to right in every language.
const ltr = (text, className) => el('bdi', { dir: 'ltr', className, textContent: text });
const hidden = (text) => el('span', { className: 'visually-hidden', textContent: text });

// 2-digit country codes (the rest of the world has 1: 1 and 7, or 3).
const CC2 = new Set(('20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 ' +
  '60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98').split(' '));

function groups(digits, sizes) {
  const out = [];
  let i = 0;
  for (const n of sizes) { if (i < digits.length) out.push(digits.slice(i, i + n)); i += n; }
  if (i < digits.length) out[out.length - 1] += digits.slice(i);
  return out;
}

// E.164 digits as people write them: "+972 52-334-4556", "+36 30 123 4567".
function formatPhone(e164) {
  if (!/^[1-9]\d{6,14}$/.test(e164 || '')) return e164 || '';
  const cc = /^[17]/.test(e164) ? e164[0] : CC2.has(e164.slice(0, 2)) ? e164.slice(0, 2) : e164.slice(0, 3);
  const n = e164.slice(cc.length);
  let parts;
  if (cc === '972') parts = groups(n, /^[57]/.test(n) ? [2, 3, 4] : [1, 3, 4]).join('-');
  else if (cc === '1' && n.length === 10) parts = groups(n, [3, 3, 4]).join('-');
  else if (cc === '7' && n.length === 10) parts = `${n.slice(0, 3)} ${groups(n.slice(3), [3, 2, 2]).join('-')}`;
  else if (cc === '36') parts = groups(n, n[0] === '1' ? [1, 3, 4] : n.length === 8 ? [2, 3, 3] : [2, 3, 4]).join(' ');
  else if (cc === '380' && n.length === 9) parts = groups(n, [2, 3, 2, 2]).join(' ');
  else parts = groups(n, n.length <= 8 ? [n.length - 4, 4] : [3, 3, 4]).join(' ');
  return `+${cc} ${parts}`;
}

function phone(e164, raw) {
  const text = e164 ? formatPhone(e164) : raw || t('hidden_number');
  return ltr(text, 'phone');
}

function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '';
  seconds = Math.max(0, Math.floor(seconds));
  const m = Math.floor(seconds / 60), s = seconds % 60;
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${String(s).padStart(2, '0')}`
    : `${m}:${String(s).padStart(2, '0')}`;
}

const when = (iso) => el('time', { dateTime: iso, dir: 'ltr', textContent: whenFormat.format(new Date(iso)) });

function safeUrl(url) {
  try { return ['http:', 'https:'].includes(new URL(url, location.href).protocol) ? url : null; } catch (e) { return null; }
}

// ---- listening -------------------------------------------------------------------------

// Words for the error codes the recordings endpoint and the API answer.
const REC_WORDS = ['url_expired', 'invalid_signature', 'fetch_not_configured', 'fetch_not_allowed',
  'upstream_auth_failed', 'upstream_rejected_ref', 'upstream_timeout', 'upstream_error',
  'upstream_too_large', 'not_found', 'unavailable'];
const REC_ALIASES = { upstream_not_configured: 'fetch_not_configured', upstream_not_allowed: 'fetch_not_allowed', upstream_cancelled: 'unavailable' };
// Trying again can help: the PBX may have it later, or ringlog is busy.
const REC_RETRY = new Set(['upstream_rejected_ref', 'upstream_timeout', 'upstream_error', 'unavailable']);
// A new play link helps: the list is loaded again.
const REC_RELOAD = new Set(['url_expired', 'invalid_signature']);

function recordingProblem(code, source, retry) {
  code = REC_ALIASES[code] || code;
  const text = REC_WORDS.includes(code) ? t(`rec_${code}`, { source }) : t('rec_generic');
  const box = el('span', { className: 'rec-error', dataset: { reason: code || '' } }, text);
  if (retry && REC_RETRY.has(code)) {
    box.append(' ', el('button', { type: 'button', className: 'link', textContent: t('retry'), onclick: retry }));
  } else if (REC_RELOAD.has(code)) {
    box.append(' ', el('button', { type: 'button', className: 'link', textContent: t('reload'), onclick: () => loadCalls(true) }));
  }
  return box;
}

// An <audio> element only says "error": ask the URL what went wrong.
async function recordingError(url) {
  try {
    const response = await fetch(url, { headers: { Range: 'bytes=0-0' } });
    const body = (response.headers.get('Content-Type') || '').includes('json') ? await response.json() : null;
    if (body && body.error) return body.error;
    if (response.status === 403) return 'url_expired';
    if (response.status === 503) return 'unavailable';
  } catch (e) { /* the network itself failed */ }
  return 'generic';
}

// Only one recording plays at a time.
document.addEventListener('play', (event) => {
  for (const audio of document.querySelectorAll('audio')) if (audio !== event.target) audio.pause();
}, true);

function player(rec, call, label) {
  const known = rec.duration_s || null;
  const audio = el('audio', { preload: 'none', src: rec.play_url, dataset: { recording: rec.id } });
  const play = el('button', { type: 'button', className: 'play', 'aria-label': `${t('play')} ${label}` },
    el('span', { className: 'icon', 'aria-hidden': 'true', textContent: '▶' }));
  const seek = el('input', { type: 'range', className: 'seek', min: '0', max: String(known || 0), step: '1', value: '0', dir: 'ltr',
    'aria-label': `${t('position')} ${label}` });
  const time = ltr('', 'time');
  const speed = el('button', { type: 'button', className: 'speed', textContent: '1×', 'aria-label': `${t('speed')} 1×` });
  const download = el('a', { className: 'download', href: `${rec.play_url}&download=1`, download: '',
    'aria-label': `${t('download')} ${label}`, title: t('download') },
  el('span', { 'aria-hidden': 'true', textContent: '⤓' }));
  const box = el('div', { className: 'player', dir: 'ltr', dataset: { recording: rec.id } }, play, seek, time, speed, download, audio);

  const total = () => (Number.isFinite(audio.duration) && audio.duration > 0 ? audio.duration : known);
  const show = () => {
    const now = audio.currentTime || 0, all = total();
    time.textContent = `${duration(now)} / ${all ? duration(all) : '–:––'}`;
    if (all) seek.max = String(Math.ceil(all));
    if (document.activeElement !== seek) seek.value = String(Math.floor(now));
    seek.setAttribute('aria-valuetext', time.textContent);
  };
  const toggle = () => (audio.paused ? audio.play().catch(() => {}) : audio.pause());
  const skip = (s) => { audio.currentTime = Math.max(0, Math.min((total() || 0), (audio.currentTime || 0) + s)); show(); };
  const setSpeed = (rate) => {
    audio.playbackRate = rate;
    audio.defaultPlaybackRate = rate;
    speed.textContent = `${rate}×`;
    speed.setAttribute('aria-label', `${t('speed')} ${rate}×`);
  };
  play.addEventListener('click', toggle);
  speed.addEventListener('click', () => setSpeed(SPEEDS[(SPEEDS.indexOf(audio.playbackRate) + 1) % SPEEDS.length]));
  seek.addEventListener('input', () => { audio.currentTime = Number(seek.value); show(); });
  // Keys, wherever the focus is in the player: k or space plays and pauses,
  // j and l (and the arrows on the buttons) go 5 s back and forth, < and > change speed.
  box.addEventListener('keydown', (e) => {
    const onRange = e.target === seek;
    if (e.key === 'k' || (e.key === ' ' && e.target !== play && e.target.tagName !== 'BUTTON' && e.target.tagName !== 'A')) { toggle(); e.preventDefault(); }
    else if (e.key === 'j' || (e.key === 'ArrowLeft' && !onRange)) { skip(-5); e.preventDefault(); }
    else if (e.key === 'l' || (e.key === 'ArrowRight' && !onRange)) { skip(5); e.preventDefault(); }
    else if (e.key === '>') { setSpeed(SPEEDS[Math.min(SPEEDS.length - 1, SPEEDS.indexOf(audio.playbackRate) + 1)]); e.preventDefault(); }
    else if (e.key === '<') { setSpeed(SPEEDS[Math.max(0, SPEEDS.indexOf(audio.playbackRate) - 1)]); e.preventDefault(); }
  });
  for (const type of ['timeupdate', 'loadedmetadata', 'durationchange', 'seeked']) audio.addEventListener(type, show);
  audio.addEventListener('play', () => { play.firstChild.textContent = '❚❚'; play.setAttribute('aria-label', `${t('pause')} ${label}`); box.classList.add('playing'); });
  audio.addEventListener('pause', () => { play.firstChild.textContent = '▶'; play.setAttribute('aria-label', `${t('play')} ${label}`); box.classList.remove('playing'); });
  audio.addEventListener('ended', () => audio.pause());
  audio.addEventListener('error', async () => {
    const code = await recordingError(rec.play_url);
    const problem = recordingProblem(code, call.source, () => {
      const fresh = player(rec, call, label);
      problem.replaceWith(fresh);
      fresh.querySelector('audio').play().catch(() => {});
    });
    box.replaceWith(problem);
  });
  show();
  return box;
}

function recordingCell(call) {
  const cell = el('td', { className: 'rec', dataset: { label: t('col_recording') } });
  const recs = call.recordings || [];
  recs.forEach((rec, i) => {
    const label = recs.length > 1 ? t('recording_n', { n: i + 1 }) : '';
    if (rec.play_url) cell.append(player(rec, call, label));
    else if (rec.unavailable_reason) cell.append(recordingProblem(rec.unavailable_reason, call.source, null));
  });
  return cell;
}

// ---- the call log ----------------------------------------------------------------------

function otherParty(call) {
  const out = call.direction === 'out';
  const number = out ? phone(call.callee_e164, call.callee) : phone(call.caller_e164, call.caller);
  if (state.onLeadPage) return number; // the lead's name is at the top of the page
  const lead = call.lead;
  const name = lead && lead.name ? lead.name : !out ? call.caller_name : null;
  if (!name) return number;
  const url = lead && safeUrl(lead.crm_url);
  const label = url ? el('a', { href: url, target: '_top', rel: 'noopener' }, named(name)) : named(name);
  return el('span', { className: 'two-lines' }, label, el('span', { className: 'muted' }, number));
}

function agentLabel(call) {
  return call.agent_user_name || call.agent_name || call.agent_user || '';
}

function agentCell(call) {
  const name = agentLabel(call);
  const ext = call.agent ? ltr(t('ext', { ext: call.agent }), 'muted') : null;
  if (!name) return el('span', {}, ext);
  return el('span', { className: 'two-lines' }, named(name), ext);
}

function rememberAgent(call) {
  if (call.agent && agentLabel(call)) state.extensions.set(call.agent, agentLabel(call));
  const value = call.agent_user || call.agent;
  if (!value || state.agents.has(value)) return;
  state.agents.set(value, agentLabel(call) || call.agent);
  const select = document.getElementById('f-agent');
  select.append(el('option', { value, textContent: state.agents.get(value) }));
}

function callRow(call) {
  const arrow = { in: '↙', out: '↗', internal: '⇄' }[call.direction] || '';
  const length = call.disposition === 'answered' || call.billable_s ? duration(call.billable_s ?? call.duration_s) : '';
  rememberAgent(call);
  return el('tr', { dataset: { callId: call.id } },
    el('td', { className: 'dir', title: t(`dir_${call.direction}`) },
      el('span', { 'aria-hidden': 'true', textContent: arrow }), hidden(t(`dir_${call.direction}`))),
    el('td', { className: 'when' }, when(call.started_at)),
    el('td', { className: 'who' }, otherParty(call)),
    el('td', { className: 'agent', dataset: { label: t('col_agent') } }, agentCell(call)),
    el('td', { className: 'length', dataset: { label: t('col_length') } }, ltr(length)),
    el('td', { className: 'result' }, el('span', { className: `disp ${call.disposition}`, textContent: t(`disp_${call.disposition}`) })),
    recordingCell(call));
}

const FILTERS = ['q', 'from', 'to', 'disposition', 'direction', 'agent'];
// How a filter is named in the page's address: ?agent= means the agent
// using the page (whose phone rings on call back), so the filter is another.
const IN_ADDRESS = { agent: 'by_agent' };
const addressName = (name) => IN_ADDRESS[name] || name;

function filterValues() {
  const out = {};
  for (const name of FILTERS) {
    const value = document.getElementById(`f-${name}`).value.trim();
    if (value) out[name] = value;
  }
  return out;
}

// Checks the filters; returns false (and says why) when they cannot be asked.
function filtersValid(f) {
  const box = document.getElementById('filter-error');
  let problem = '';
  if (f.from && f.to && f.from > f.to) problem = t('err_bad_dates');
  else if (f.q && f.q.length < 2) problem = t('err_bad_search');
  box.textContent = problem;
  box.hidden = !problem;
  return !problem;
}

function callsQuery(f) {
  const q = new URLSearchParams({ limit: '25' });
  if (state.lead) q.set('lead_id', state.lead.id);
  else if (params.get('lead_id')) q.set('lead_id', params.get('lead_id')); // not found: no calls
  else if (params.get('phone')) q.set('phone', params.get('phone'));
  if (params.get('source')) q.set('source', params.get('source'));
  for (const [key, value] of Object.entries(f)) q.set(key, value);
  if (f.from || f.to) q.set('tz', Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  if (state.cursor) q.set('cursor', state.cursor);
  return q;
}

// Keeps the filters in the address, so a reload or a shared link keeps them.
function rememberFilters(f) {
  const q = new URLSearchParams(location.search);
  for (const name of FILTERS) if (f[name]) q.set(addressName(name), f[name]); else q.delete(addressName(name));
  const query = q.toString();
  history.replaceState(null, '', location.pathname + (query ? `?${query}` : ''));
}

async function loadCalls(reset = false) {
  const f = filterValues();
  if (!filtersValid(f)) return;
  if (reset) state.cursor = null;
  const seq = ++state.seq;
  const table = document.getElementById('calls');
  table.setAttribute('aria-busy', 'true');
  let body;
  try {
    body = await api(`/v1/calls?${callsQuery(f)}`);
  } catch (error) {
    if (seq === state.seq) fail(error, () => loadCalls(reset));
    return;
  } finally {
    if (seq === state.seq) table.removeAttribute('aria-busy');
  }
  if (seq !== state.seq) return; // a newer search answered first
  rememberFilters(f);
  const tbody = table.tBodies[0];
  if (reset) tbody.replaceChildren();
  tbody.append(...body.calls.map(callRow));
  state.cursor = body.next_cursor;
  document.getElementById('more').hidden = !state.cursor;
  const empty = document.getElementById('calls-empty');
  empty.textContent = Object.keys(f).length ? t('no_match') : t('no_calls');
  empty.hidden = tbody.children.length > 0;
  table.hidden = tbody.children.length === 0;
}

function setUpFilters() {
  const form = document.getElementById('filters');
  const agent = document.getElementById('f-agent');
  if (state.user) {
    state.agents.set(state.user, t('my_calls'));
    agent.append(el('option', { value: state.user, textContent: t('my_calls') }));
  }
  for (const name of FILTERS) {
    const value = params.get(addressName(name)) || params.get(name);
    if (!value) continue;
    const input = document.getElementById(`f-${name}`);
    if (input.tagName === 'SELECT' && ![...input.options].some((o) => o.value === value)) input.append(el('option', { value, textContent: value }));
    input.value = value;
  }
  let timer = null;
  form.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(timer); loadCalls(true); });
  form.addEventListener('change', (e) => { if (e.target.id !== 'f-q') loadCalls(true); });
  document.getElementById('f-q').addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => loadCalls(true), 350);
  });
  form.addEventListener('reset', () => setTimeout(() => loadCalls(true)));
}

// ---- the lead, its tasks, calling back ------------------------------------------------------

async function loadLead() {
  if (params.get('lead_id')) return api(`/v1/leads/${encodeURIComponent(params.get('lead_id'))}`);
  const q = new URLSearchParams({ phone: params.get('phone') });
  if (params.get('source')) q.set('source', params.get('source'));
  const body = await api(`/v1/leads?${q}`);
  return (body.leads || [])[0] || null;
}

function showLead(lead) {
  document.getElementById('lead').hidden = false;
  document.getElementById('lead-name').textContent = lead ? lead.name || formatPhone(lead.phone) : params.get('phone');
  document.getElementById('lead-company').textContent = lead ? lead.company || '' : '';
  document.getElementById('lead-phone').textContent = lead ? formatPhone(lead.phone) : '';
  const crm = document.getElementById('lead-crm');
  const url = lead && safeUrl(lead.crm_url);
  crm.hidden = !url;
  if (url) crm.href = url;
  document.getElementById('calls-title').textContent = t('calls_with_contact');
}

const C2C_WORDS = ['agent_offline', 'agent_blocked', 'invalid_params', 'upstream_timeout', 'not_configured'];

// Asks the PBX to ring the agent's phone and then TARGET; says how it went in STATUS.
async function callBack(target, leadId, button, status) {
  button.disabled = true;
  status.textContent = t('calling');
  try {
    const body = { target };
    if (leadId) body.lead_id = leadId;
    if (params.get('source')) body.source = params.get('source');
    if (params.get('agent')) body.agent = params.get('agent');
    await api('/v1/click2call', { method: 'POST', body: JSON.stringify(body) });
    status.textContent = t('ringing_now');
  } catch (error) {
    if (C2C_WORDS.includes(error.code)) status.textContent = t(`c2c_${error.code}`);
    else if (error.status >= 500 && error.status !== 503) status.textContent = t('c2c_failed');
    else status.textContent = explain(error).text;
  } finally {
    button.disabled = false;
  }
}

function taskItem(task) {
  const lead = task.lead;
  const started = task.call ? task.call.started_at : task.created_at;
  const what = el('span', { className: 'task-what' }, t('missed_call'), ' ', when(started));
  const who = !state.onLeadPage && lead
    ? el('span', { className: 'two-lines' }, named(lead.name || ''), el('span', { className: 'muted' }, phone(lead.phone)))
    : null;
  const status = el('span', { className: 'muted task-status', role: 'status' });
  const done = el('button', { type: 'button', className: 'secondary', textContent: t('done') });
  const item = el('li', { dataset: { taskId: task.id } }, el('div', { className: 'task-main' }, who, what, status));
  const actions = el('div', { className: 'actions' });
  if (lead && lead.phone) {
    const back = el('button', { type: 'button', textContent: t('call_back') });
    back.addEventListener('click', () => callBack(`+${lead.phone}`, lead.id, back, status));
    actions.append(back);
  }
  actions.append(done);
  item.append(actions);
  done.addEventListener('click', async () => {
    done.disabled = true;
    try {
      await api(`/v1/tasks/${task.id}/done`, { method: 'POST' });
      const next = item.nextElementSibling || item.previousElementSibling;
      item.remove();
      const left = document.getElementById('task-list').children.length;
      document.getElementById('tasks').hidden = left === 0;
      (next ? next.querySelector('button') : document.getElementById('calls-title')).focus?.();
    } catch (error) {
      done.disabled = false;
      fail(error, () => done.click());
    }
  });
  return item;
}

async function loadTasks() {
  const q = new URLSearchParams({ status: 'open', kind: 'missed_call', limit: '20' });
  if (state.lead) q.set('lead_id', state.lead.id);
  else if (state.onLeadPage) return;
  else if (state.user) q.set('assignee', state.user);
  const body = await api(`/v1/tasks?${q}`);
  document.getElementById('task-list').replaceChildren(...body.tasks.map(taskItem));
  document.getElementById('tasks').hidden = body.tasks.length === 0;
}

// ---- calls in progress -------------------------------------------------------------------------

function liveItem(c) {
  const agentName = state.extensions.get(c.agent);
  const who = c.lead_name ? named(c.lead_name) : phone(c.phone_e164, c.phone);
  const whom = c.agent ? el('span', {}, agentName ? named(agentName) : ltr(t('ext', { ext: c.agent }))) : c.did ? phone(null, c.did) : null;
  const status = { ringing: 'live_ringing', talking: 'live_talking', answered: 'live_talking', hold: 'live_hold' }[c.status];
  const since = Date.parse(c.started_at) || Date.now();
  return el('li', { dataset: { ivrid: c.call_id } },
    el('span', { className: 'live-who' }, who, whom ? el('span', { className: 'muted' }, ` ${t('live_to')} `) : null, whom),
    el('span', { className: 'live-state' },
      el('span', { className: `badge ${c.status}`, textContent: status ? t(status) : c.status }), ' ',
      ltr(duration((Date.now() - since) / 1000), 'live-timer'), ''));
}

function showLive(calls) {
  const list = document.getElementById('live-list');
  list.replaceChildren(...calls.map(liveItem));
  for (const [i, li] of [...list.children].entries()) li.querySelector('.live-timer').dataset.since = Date.parse(calls[i].started_at) || Date.now();
  document.getElementById('live-count').textContent = String(calls.length);
  document.getElementById('live-empty').hidden = calls.length > 0;
}

async function watchLive() {
  try {
    showLive((await api('/v1/calls/live')).calls);
  } catch (e) {
    return; // not for this session (or not now): the panel stays hidden
  }
  document.getElementById('live').hidden = false;
  // EventSource cannot send headers: the short-lived session goes in the URL.
  const events = new EventSource(`/v1/calls/live/stream?${new URLSearchParams({ token: state.token })}`);
  events.addEventListener('live', (e) => showLive(JSON.parse(e.data).calls));
  events.onerror = () => { /* the browser reconnects by itself */ };
  // How long each call has lasted, every second.
  setInterval(() => {
    for (const timer of document.querySelectorAll('.live-timer')) timer.textContent = duration((Date.now() - Number(timer.dataset.since)) / 1000);
  }, 1000);
}

// ---- start -----------------------------------------------------------------------------------------

async function start() {
  applyLanguage();
  if (!state.token) { notice(t('err_need_session')); return; }
  setUpFilters();
  document.getElementById('more').addEventListener('click', () => loadCalls());
  document.getElementById('call-back').addEventListener('click', (e) => {
    const target = state.lead ? `+${state.lead.phone}` : params.get('phone');
    callBack(target, state.lead && state.lead.id, e.currentTarget, document.getElementById('call-status'));
  });
  if (!state.onLeadPage) {
    document.getElementById('page-title').hidden = false;
    watchLive();
  }
  await loadPage();
}

async function loadPage() {
  if (state.onLeadPage) {
    try {
      state.lead = await loadLead();
    } catch (error) {
      if (error.status !== 404) { fail(error, loadPage); return; }
      notice(t('err_lead_missing'));
    }
    showLead(state.lead);
  }
  loadTasks().catch((error) => fail(error, loadTasks));
  await loadCalls(true);
}

start();
