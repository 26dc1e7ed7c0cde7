// shopcase admin page: vanilla JavaScript over the admin JSON API.
//
// The API token lives in this tab's sessionStorage and is sent as
// `Authorization: Bearer`; no cookie is ever used, so the browser never
// attaches credentials by itself. Everything the API returns is written
// with textContent or as text nodes, never parsed as HTML: data cannot
// become markup.
'use strict';

const API = '/admin/api';
const TOKEN_KEY = 'shopcase-admin-token';

const state = {
  me: null,
  stores: [],
  plugins: [],
  tab: 'stores',
  eventsNext: null,
};

// ---- helpers ------------------------------------------------------------------

const $ = (sel, root = document) => root.querySelector(sel);

/** Build an element: el('td', {class: 'x', dataset: {a: 'b'}}, 'text', child...). */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function badge(text, kind) {
  return el('span', { class: `badge ${kind || text}` }, text);
}

function when(t) {
  if (!t) return '';
  const d = new Date(t);
  return isNaN(d) ? String(t) : d.toLocaleString();
}

function notice(message, isError) {
  const n = $('#notice');
  n.textContent = message;
  n.classList.toggle('error', !!isError);
  n.hidden = !message;
}

// How connecting the store went after an enable or disable (the answer's
// `connect`): one sentence, and whether it is a problem.
function connectSummary(c) {
  if (!c) return ['', false];
  if (c.status === 'not-configured') return [` Webhooks not connected: ${c.error.message}`, false];
  if (c.status === 'failed') return [` Webhooks not connected (${c.error.code}): ${c.error.message}`, true];
  const r = c.report;
  const count = (a) => r.changes.filter((x) => x.action === a && x.status === 'done').length;
  let text = ` Webhooks: ${count('create')} created, ${count('update')} updated, ${count('delete')} deleted`;
  const failed = r.changes.filter((x) => x.status === 'failed' || x.status === 'blocked');
  if (failed.length) text += `; not done: ${failed.map((x) => `${x.action} ${x.topic} (${x.error})`).join(', ')}`;
  if (r.scopes.missing.length) {
    text += `; missing access scopes: ${r.scopes.missing.map((m) => `${m.scope} (for ${m.needed_for.join(', ')})`).join('; ')}`;
  }
  return [`${text}.`, c.status !== 'connected'];
}

let busy = 0;
function setBusy(delta) {
  busy += delta;
  document.body.dataset.busy = String(busy);
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = { Authorization: `Bearer ${token}` };
  const init = { method, headers, credentials: 'omit', cache: 'no-store', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  setBusy(1);
  try {
    const resp = await fetch(API + path, init);
    let data = null;
    try {
      data = await resp.json();
    } catch (_) {
      data = null;
    }
    if (!resp.ok) {
      const err = new ApiError(resp.status, data && data.error, (data && data.message) || resp.statusText);
      if (resp.status === 401) signOut('The token was refused: sign in again.');
      throw err;
    }
    return data;
  } finally {
    setBusy(-1);
  }
}

/** Run an async action, showing its error (if any) in the notice area. */
async function guarded(fn) {
  try {
    await fn();
  } catch (e) {
    notice(e.code ? `${e.message} (${e.code})` : String(e.message || e), true);
  }
}

const enc = encodeURIComponent;

// ---- sign in / out -------------------------------------------------------------

async function signIn(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  try {
    state.me = await api('GET', '/me');
  } catch (e) {
    sessionStorage.removeItem(TOKEN_KEY);
    notice(e.status === 401 ? 'That token was not accepted.' : e.message, true);
    return;
  }
  $('#login').hidden = true;
  $('#who').hidden = false;
  $('#who-name').textContent = `${state.me.name} (${state.me.role}${state.me.all_stores ? ', all stores' : ': ' + state.me.stores.join(', ')})`;
  $('#tabs').hidden = false;
  notice('');
  await showTab(state.tab);
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.me = null;
  $('#login').hidden = false;
  $('#who').hidden = true;
  $('#tabs').hidden = true;
  for (const v of document.querySelectorAll('.view')) v.hidden = true;
  notice(message || '', !!message);
}

// ---- tabs ----------------------------------------------------------------------

async function showTab(tab) {
  state.tab = tab;
  for (const b of document.querySelectorAll('#tabs button')) {
    b.classList.toggle('active', b.dataset.tab === tab);
  }
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== `view-${tab}`;
  await guarded(async () => {
    if (tab === 'stores') await loadStores();
    if (tab === 'events') await loadEvents(false);
    if (tab === 'dead-letters') await loadDeadLetters();
    if (tab === 'quarantine') await loadQuarantine();
    if (tab === 'privacy') await loadPrivacy();
    if (tab === 'audit') await loadAudit();
  });
}

function fillShopSelects() {
  for (const s of document.querySelectorAll('.shop-select')) {
    const current = s.value;
    s.replaceChildren(el('option', { value: '' }, 'all'), ...state.stores.map((st) => el('option', { value: st.domain }, st.domain)));
    s.value = current;
  }
}

// ---- stores and plugins ---------------------------------------------------------------

async function loadStores() {
  const [stores, plugins] = await Promise.all([api('GET', '/stores'), api('GET', '/plugins')]);
  state.stores = stores.stores;
  state.plugins = plugins.plugins;
  fillShopSelects();
  renderStores();
}

function renderStores() {
  const root = $('#stores');
  if (!state.stores.length) {
    root.replaceChildren(el('p', { class: 'hint' }, 'No stores visible to this token.'));
    return;
  }
  root.replaceChildren(...state.stores.map(renderStore));
}

function renderStore(store) {
  const rows = [];
  const installed = new Map(store.installations.map((i) => [i.plugin_id, i]));
  const ids = new Set([...state.plugins.map((p) => p.id), ...installed.keys()]);
  for (const id of [...ids].sort()) {
    const plugin = state.plugins.find((p) => p.id === id);
    const inst = installed.get(id);
    rows.push(pluginRow(store, plugin, inst, id));
  }
  return el('div', { class: 'store', dataset: { shop: store.domain } },
    el('h2', {}, store.domain, ' ', store.configured ? '' : badge('not configured', 'disabled')),
    ...(store.upstreams || []).map(upstreamNotice),
    el('table', {},
      el('thead', {}, el('tr', {}, ['Plugin', 'Version', 'State', 'Settings', ''].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows.flat())));
}

/** A service this store's calls wait for (a circuit breaker that is not closed). */
function upstreamNotice(u) {
  const name = u.service === 'shopify' ? 'Shopify' : 'Core Case';
  const what = u.state === 'credentials-refused'
    ? `${name} refuses this store's credentials: its calls wait until the credentials are fixed.`
    : `${name} is not answering for this store (${u.failures} failures in a row): its calls wait and resume by themselves when it answers again.`;
  return el('div', { class: 'form-error', dataset: { upstream: u.service, state: u.state } },
    badge(u.state), ' ', what, u.last_error ? el('div', { class: 'muted' }, `last: ${u.last_error}`) : '');
}

function pluginRow(store, plugin, inst, id) {
  let stateCell;
  if (!inst) stateCell = badge('not installed', 'disabled');
  else if (inst.quarantine) stateCell = el('span', {}, badge('quarantined'), ' ', el('span', { class: 'muted' }, inst.quarantine.reason));
  else stateCell = badge(inst.enabled ? 'enabled' : 'disabled');
  const settings = inst && inst.effective_settings
    ? Object.entries(inst.effective_settings).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`).join(', ')
    : '';
  const actions = el('td', { class: 'actions' });
  const data = { shop: store.domain, plugin: id };
  if (state.me.can_change && store.configured) {
    if (plugin && (!inst || !inst.enabled)) {
      actions.append(el('button', { type: 'button', class: 'primary', dataset: { action: 'open-enable', ...data } }, 'Enable…'));
    }
    if (inst && inst.enabled) {
      actions.append(el('button', { type: 'button', dataset: { action: 'open-settings', ...data } }, 'Settings…'));
      actions.append(el('button', { type: 'button', class: 'danger', dataset: { action: 'disable', ...data } }, 'Disable'));
    }
    if (inst && inst.quarantine) {
      actions.append(el('button', { type: 'button', dataset: { action: 'unquarantine', ...data } }, 'Reset quarantine'));
    }
    if (inst && inst.approval && ['pending', 'not-recorded'].includes(inst.approval.state)) {
      actions.append(el('button', { type: 'button', class: 'primary', dataset: { action: 'approve', ...data } }, 'Approve new content'));
    }
  }
  // What approving would add is shown before the button is pressed.
  const approval = inst && inst.approval && inst.approval.state !== 'approved'
    ? el('div', { class: inst.approval.state === 'pending' ? 'form-error' : 'muted', dataset: { approval: inst.approval.state } }, `approval: ${inst.approval.summary}`)
    : '';
  const row = el('tr', { dataset: { plugin: id } },
    el('td', {}, el('strong', {}, id), plugin ? el('div', { class: 'muted' }, plugin.name) : ''),
    el('td', { class: 'mono' }, inst ? inst.version : (plugin ? plugin.latest : '')),
    el('td', {}, stateCell, approval, inst && inst.problem ? el('div', { class: 'form-error' }, inst.problem) : ''),
    el('td', { class: 'mono' }, settings),
    actions);
  return [row];
}

/** The settings form under a plugin's row, for enabling or changing it. */
function openSettings(button, enabling) {
  const shop = button.dataset.shop;
  const id = button.dataset.plugin;
  const plugin = state.plugins.find((p) => p.id === id);
  if (!plugin) return;
  const store = state.stores.find((s) => s.domain === shop);
  const inst = store && store.installations.find((i) => i.plugin_id === id);
  const row = button.closest('tr');
  const old = row.nextElementSibling;
  if (old && old.classList.contains('settings-row')) old.remove();

  const versionSelect = el('select', { name: 'version', id: 'setting-version' },
    plugin.versions.map((v) => el('option', { value: v.version }, v.version)));
  versionSelect.value = inst ? inst.version : plugin.latest;
  const fieldsBox = el('div', { class: 'fields' });
  const errorBox = el('p', { class: 'form-error', hidden: true });

  const current = () => plugin.versions.find((v) => v.version === versionSelect.value) || plugin.versions[plugin.versions.length - 1];
  const renderFields = () => {
    const spec = current().settings;
    const effective = (inst && inst.effective_settings) || {};
    fieldsBox.replaceChildren(...Object.entries(spec).map(([name, s]) => settingField(name, s, name in effective ? effective[name] : s.default)));
    if (!Object.keys(spec).length) fieldsBox.append(el('p', { class: 'muted' }, 'This plugin has no settings.'));
  };
  versionSelect.addEventListener('change', renderFields);
  renderFields();

  const form = el('form', { class: 'settings-form', dataset: { shop, plugin: id } },
    el('div', { class: 'field' }, el('label', { for: 'setting-version' }, 'Version'), versionSelect),
    fieldsBox,
    errorBox,
    el('div', { class: 'buttons' },
      el('button', { type: 'submit', class: 'primary', dataset: { action: enabling ? 'save-enable' : 'save-settings' } }, enabling ? 'Enable' : 'Save'),
      el('button', { type: 'button', dataset: { action: 'cancel' } }, 'Cancel')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    guarded(() => saveSettings(form, current(), inst, enabling, errorBox));
  });
  form.querySelector('[data-action="cancel"]').addEventListener('click', () => formRow.remove());
  const formRow = el('tr', { class: 'settings-row' }, el('td', { colspan: '5' }, form));
  row.after(formRow);
}

function settingField(name, spec, value) {
  const id = `setting-${name}`;
  let input;
  if (spec.type === 'boolean') {
    input = el('input', { type: 'checkbox', id, name });
    input.checked = !!value;
  } else if (spec.choices && spec.type === 'text') {
    input = el('select', { id, name }, spec.choices.map((c) => el('option', { value: c }, c)));
    input.value = value;
  } else {
    input = el('input', { id, name, type: 'text', spellcheck: 'false' });
    input.value = Array.isArray(value) ? value.join(', ') : (value === undefined || value === null ? '' : String(value));
    if (spec.type === 'integer' || spec.type === 'number') input.inputMode = 'decimal';
  }
  input.dataset.type = spec.type;
  const bounds = [spec.min !== null && spec.min !== undefined ? `min ${spec.min}` : '', spec.max !== null && spec.max !== undefined ? `max ${spec.max}` : ''].filter(Boolean).join(', ');
  return el('div', { class: 'field' },
    el('label', { for: id }, name),
    input,
    el('small', {}, [spec.description, `${spec.type}${bounds ? ' (' + bounds + ')' : ''}, default ${JSON.stringify(spec.default)}`].filter(Boolean).join(' — ')));
}

/** The JSON value of a setting input; invalid text is sent as is so the
 * host's check (which names the setting) explains what is wrong. */
function settingValue(input) {
  const raw = input.value.trim();
  switch (input.dataset.type) {
    case 'boolean': return input.checked;
    case 'integer': return /^-?\d+$/.test(raw) ? Number(raw) : raw;
    case 'number': return raw !== '' && !isNaN(Number(raw)) ? Number(raw) : raw;
    case 'text-list': return raw === '' ? [] : raw.split(',').map((s) => s.trim()).filter(Boolean);
    default: return input.value;
  }
}

async function saveSettings(form, version, inst, enabling, errorBox) {
  errorBox.hidden = true;
  const shop = form.dataset.shop;
  const plugin = form.dataset.plugin;
  const effective = (inst && inst.effective_settings) || {};
  const settings = {};
  for (const [name, spec] of Object.entries(version.settings)) {
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (!input) continue;
    const value = settingValue(input);
    const before = name in effective ? effective[name] : spec.default;
    if (JSON.stringify(value) !== JSON.stringify(before)) settings[name] = value;
  }
  const path = `/stores/${enc(shop)}/installations/${enc(plugin)}`;
  let connected = ['', false];
  try {
    if (enabling) {
      const done = await api('POST', `${path}/enable`, { version: version.version, settings });
      connected = connectSummary(done && done.connect);
    } else {
      const body = { settings };
      if (!inst || inst.version !== version.version) body.version = version.version;
      if (!body.version && !Object.keys(settings).length) {
        notice('Nothing to change.');
        return;
      }
      await api('PATCH', path, body);
    }
  } catch (e) {
    errorBox.textContent = e.message;
    errorBox.hidden = false;
    throw e;
  }
  notice((enabling ? `Enabled ${plugin} ${version.version} for ${shop}.` : `Saved ${plugin} for ${shop}.`) + connected[0], connected[1]);
  await loadStores();
}

async function storeAction(button) {
  const { action, shop, plugin } = button.dataset;
  if (action === 'open-enable') return openSettings(button, true);
  if (action === 'open-settings') return openSettings(button, false);
  const path = `/stores/${enc(shop)}/installations/${enc(plugin)}/${action}`;
  const answer = await api('POST', path);
  const connected = action === 'disable' ? connectSummary(answer && answer.connect) : ['', false];
  const done = {
    disable: `Disabled ${plugin} for ${shop}.`,
    unquarantine: `Quarantine of ${plugin} for ${shop} lifted; held events run.`,
    approve: `Approved the content on disk of ${plugin} for ${shop}; it runs again.`,
  };
  notice(done[action] + connected[0], connected[1]);
  if (state.tab === 'quarantine') await loadQuarantine();
  else await loadStores();
}

// ---- events ------------------------------------------------------------------------

function formQuery(form, extra) {
  const q = new URLSearchParams();
  for (const [k, v] of new FormData(form)) if (String(v).trim() !== '') q.set(k, String(v).trim());
  for (const [k, v] of Object.entries(extra || {})) if (v !== null && v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function loadEvents(more) {
  if (!state.stores.length) await loadStores();
  const form = $('#event-filter');
  const data = await api('GET', `/events${formQuery(form, { before: more ? state.eventsNext : null })}`);
  const body = $('#events-table tbody');
  if (!more) {
    body.replaceChildren();
    $('#event-detail').replaceChildren();
  }
  for (const e of data.events) {
    body.append(el('tr', { dataset: { event: e.id } },
      el('td', {}, when(e.received_at)),
      el('td', {}, e.shop),
      el('td', { class: 'mono' }, e.topic),
      el('td', { class: 'mono' }, e.resources.order_id ?? ''),
      el('td', {}, badge(e.status)),
      el('td', { class: 'actions' }, el('button', { type: 'button', dataset: { action: 'event-detail', event: e.id } }, 'Details'))));
  }
  if (!body.children.length) body.append(el('tr', {}, el('td', { colspan: '6', class: 'muted' }, 'No events.')));
  state.eventsNext = data.next_before;
  $('#events-more').hidden = data.next_before === null;
}

async function showEvent(id) {
  const d = await api('GET', `/events/${enc(id)}`);
  const box = $('#event-detail');
  const runs = d.plugins.map((r) => el('div', { class: 'run', dataset: { plugin: r.plugin_id } },
    el('div', {}, el('strong', {}, r.plugin_id), ` ${r.plugin_version} `, badge(r.status),
      ` attempts ${r.attempts}, ${r.actions} action(s)`),
    r.last_failure ? el('div', { class: 'form-error' }, `${r.last_failure.kind}: ${r.last_failure.message}`) : '',
    r.journal.length
      ? el('table', {},
        el('thead', {}, el('tr', {}, ['#', 'Action', 'Family', 'Status', 'Last error'].map((h) => el('th', {}, h)))),
        el('tbody', {}, r.journal.map((j) => el('tr', {},
          el('td', {}, j.index), el('td', { class: 'mono' }, j.kind), el('td', {}, j.family),
          el('td', {}, badge(j.status), j.abandoned ? el('div', { class: 'muted' }, `taken over ${j.abandoned}× from an executor that died`) : ''),
          el('td', {}, j.last_error ? `${j.last_error.kind}: ${j.last_error.message}` : '')))))
      : el('p', { class: 'muted' }, 'No actions.')));
  box.replaceChildren(
    el('h3', {}, `Event ${d.event.topic} `, el('span', { class: 'mono muted' }, d.event.id)),
    el('p', {}, `${d.event.shop}, received ${when(d.event.received_at)}, triggered ${d.event.triggered_at}, `, badge(d.event.status)),
    d.event.abandoned
      ? el('p', { class: 'form-error', dataset: { abandoned: d.event.abandoned } },
        `Taken over ${d.event.abandoned}× from a worker that died holding it (the process aborted or was killed): it runs alone until it ends, and is set aside as poison at dispatcher.poison-after.`)
      : '',
    el('h4', {}, 'Plugins'),
    ...(runs.length ? runs : [el('p', { class: 'muted' }, 'No plugin was planned for this event.')]),
    el('h4', {}, 'Payload'),
    el('pre', {}, JSON.stringify(d.payload, null, 2)));
  box.scrollIntoView({ block: 'nearest' });
}

// ---- dead letters, quarantine, audit ------------------------------------------------------------

async function loadDeadLetters() {
  if (!state.stores.length) await loadStores();
  const data = await api('GET', `/dead-letters${formQuery($('#dead-filter'))}`);
  const body = $('#dead-table tbody');
  body.replaceChildren(...data.dead_letters.map((d) => {
    const actions = el('td', { class: 'actions' });
    if (state.me.can_change && d.state === 'open') {
      actions.append(
        el('button', { type: 'button', class: 'primary', dataset: { action: 'retry', id: String(d.id) } }, 'Retry'),
        el('button', { type: 'button', class: 'danger', dataset: { action: 'discard', id: String(d.id) } }, 'Discard'));
    }
    return el('tr', { dataset: { deadLetter: String(d.id) } },
      el('td', {}, d.id),
      el('td', {}, when(d.created_at)),
      el('td', {}, d.shop),
      el('td', {}, d.what),
      el('td', { class: 'mono' }, d.plugin_id || ''),
      el('td', {}, el('span', { class: 'mono' }, d.failure.kind), ': ', d.failure.message),
      el('td', {}, d.attempts),
      el('td', {}, badge(d.state)),
      actions);
  }));
  if (!data.dead_letters.length) body.append(el('tr', {}, el('td', { colspan: '9', class: 'muted' }, 'No dead letters.')));
}

async function deadLetterAction(button) {
  const id = button.dataset.id;
  if (button.dataset.action === 'discard' && !button.dataset.confirm) {
    // Two clicks: the first turns the button into a confirmation.
    button.dataset.confirm = '1';
    button.textContent = 'Confirm discard';
    return;
  }
  await api('POST', `/dead-letters/${enc(id)}/${button.dataset.action}`);
  notice(button.dataset.action === 'retry' ? `Dead letter ${id} put back to run once more.` : `Dead letter ${id} discarded.`);
  await loadDeadLetters();
}

async function loadQuarantine() {
  const data = await api('GET', '/quarantine');
  const body = $('#quarantine-table tbody');
  body.replaceChildren(...data.quarantined.map((q) => el('tr', {},
    el('td', {}, q.shop),
    el('td', { class: 'mono' }, q.plugin_id),
    el('td', { class: 'mono' }, q.version),
    el('td', {}, when(q.since)),
    el('td', {}, q.reason),
    el('td', { class: 'actions' }, state.me.can_change
      ? el('button', { type: 'button', dataset: { action: 'unquarantine', shop: q.shop, plugin: q.plugin_id } }, 'Reset')
      : ''))));
  if (!data.quarantined.length) body.append(el('tr', {}, el('td', { colspan: '6', class: 'muted' }, 'Nothing is quarantined.')));
}

async function loadPrivacy() {
  if (!state.stores.length) await loadStores();
  const data = await api('GET', `/privacy-requests${formQuery($('#privacy-filter'))}`);
  const body = $('#privacy-table tbody');
  body.replaceChildren(...data.privacy_requests.map((r) => el('tr', {},
    el('td', {}, when(r.at)),
    el('td', {}, r.shop),
    el('td', { class: 'mono' }, r.topic),
    el('td', { class: 'mono' }, r.customer_id == null ? '' : String(r.customer_id)),
    el('td', { class: 'mono' }, r.event_id),
    el('td', { class: 'mono' }, r.file || ''),
    el('td', { class: 'mono' }, JSON.stringify(r.summary)))));
  if (!data.privacy_requests.length) body.append(el('tr', {}, el('td', { colspan: '7', class: 'muted' }, 'No privacy requests.')));
}

async function loadAudit() {
  if (!state.stores.length) await loadStores();
  const data = await api('GET', `/audit${formQuery($('#audit-filter'))}`);
  const body = $('#audit-table tbody');
  body.replaceChildren(...data.audit.map((a) => el('tr', {},
    el('td', {}, when(a.at)),
    el('td', {}, a.actor),
    el('td', { class: 'mono' }, a.action),
    el('td', {}, a.shop || ''),
    el('td', { class: 'mono' }, a.plugin_id || ''),
    el('td', { class: 'mono' }, JSON.stringify(a.details)))));
}

// ---- wiring ------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  $('#login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = $('#token');
    const token = input.value.trim();
    input.value = '';
    if (token) signIn(token);
  });
  $('#sign-out').addEventListener('click', () => signOut(''));
  $('#tabs').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-tab]');
    if (b) showTab(b.dataset.tab);
  });
  $('#stores').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-action]');
    if (b && ['open-enable', 'open-settings', 'disable', 'unquarantine', 'approve'].includes(b.dataset.action)) guarded(() => storeAction(b));
  });
  $('#quarantine-table').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-action="unquarantine"]');
    if (b) guarded(() => storeAction(b));
  });
  $('#event-filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    guarded(() => loadEvents(false));
  });
  $('#events-more').addEventListener('click', () => guarded(() => loadEvents(true)));
  $('#events-table').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-action="event-detail"]');
    if (b) guarded(() => showEvent(b.dataset.event));
  });
  $('#dead-filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    guarded(loadDeadLetters);
  });
  $('#dead-table').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-action]');
    if (b) guarded(() => deadLetterAction(b));
  });
  $('#privacy-filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    guarded(loadPrivacy);
  });
  $('#audit-filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    guarded(loadAudit);
  });
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
});
