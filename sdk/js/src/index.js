// @shopcase/sdk: write shopcase plugins in JavaScript.
//
// A shopcase plugin is a WebAssembly component that turns one event (a
// Shopify webhook, a Core Case update, a timer) into a list of typed actions
// the host validates and executes. This module wraps the WIT contract
// (`wit/v0.1.0`, package `shopcase:plugin@0.1.0`) as componentize-js sees it,
// so a plugin reads like the Rust one:
//
//   import { definePlugin, OpenCase, PluginError, Priority, Target, host, log, shopify } from '@shopcase/sdk';
//
//   export const handler = definePlugin((event) => {
//     const order = event.order();
//     const total = order.totalPriceNumber();
//     if (total === undefined) throw new PluginError('order payload has no total_price');
//     if (order.test || total < host.settingNumber('threshold', 500)) return [];
//     log.info(`order ${order.name} is big`);
//     return [
//       new OpenCase(event.orderKey('big-order'), `Big order ${order.name}`).priority(Priority.HIGH),
//       shopify.tagsAdd(Target.order(event.orderId()), ['big-order']),
//     ];
//   });
//
// `shopcase plugin build` bundles this module into the plugin (the import
// `@shopcase/sdk` resolves here) and componentizes the bundle.
//
// Layout of this file:
// - errors: PluginError (what a plugin throws), HostError (what host calls throw);
// - definePlugin: the export wrapper (event view in, WIT actions out);
// - Event: the envelope, own ids, case keys; views of the payloads (Order...);
// - money: strict decimal strings;
// - action builders: case actions, Shopify operations, keys, subjects, targets;
// - host functions: settings, logging, key-value store, customer history, linked cases.
//
// WIT values in JavaScript (componentize-js): records are objects with
// camelCase fields, variants are `{tag, val}`, enums are strings (`'high'`),
// `u64` is a BigInt, `option<T>` is the value or `undefined`.

import * as wit from 'shopcase:plugin/host@0.1.0';

// ---- errors ---------------------------------------------------------------

/** The longest plugin-error message the contract allows (characters). */
const MAX_MESSAGE_CHARS = 1000;

/**
 * A plugin's own failure for one event (the WIT `plugin-error`).
 *
 * Throw it from the handler: `throw new PluginError('no total_price')`.
 * A non-retryable error dead-letters the event for this plugin at once; a
 * retryable one (`PluginError.retryLater(...)`) is run again later by the host.
 */
export class PluginError extends Error {
  /**
   * @param {string} message what went wrong, for the admin (cut to 1000 characters)
   * @param {{retryable?: boolean}} [options]
   */
  constructor(message, { retryable = false } = {}) {
    super(String(message));
    this.name = 'PluginError';
    this.retryable = Boolean(retryable);
    // componentize-js turns a thrown object's own `payload` into the `err`
    // case of the export's result.
    Object.defineProperty(this, 'payload', {
      enumerable: false,
      get: () => ({ message: clampMessage(this.message), retryable: this.retryable }),
    });
  }

  /** A failure that may go away (e.g. a host function was unavailable): run the event again later. */
  static retryLater(message) {
    return new PluginError(message, { retryable: true });
  }
}

/**
 * A host function could not answer (the WIT `host-error`): `kind` is
 * `quota-exceeded`, `invalid-argument` or `unavailable`. Uncaught, it fails
 * the invocation like `?` does in Rust: retryable only when `unavailable`.
 */
export class HostError extends Error {
  constructor(kind, message) {
    super(`host function failed: ${kind.replace('-', ' ')}: ${message}`);
    this.name = 'HostError';
    this.kind = kind;
    this.detail = message;
  }

  /** Whether running the event again later could succeed. */
  get retryable() {
    return this.kind === 'unavailable';
  }

  /** The plugin error this host error becomes when it is not handled. */
  toPluginError() {
    return new PluginError(this.message, { retryable: this.retryable });
  }
}

function clampMessage(message) {
  const chars = Array.from(String(message));
  return chars.length > MAX_MESSAGE_CHARS ? chars.slice(0, MAX_MESSAGE_CHARS).join('') : String(message);
}

/** Call a WIT import whose result is `result<T, host-error>`. */
function hostCall(f) {
  if (warming) throw new HostError('unavailable', 'not during the build-time warm-up');
  try {
    return f();
  } catch (e) {
    const p = e && Object.prototype.hasOwnProperty.call(e, 'payload') ? e.payload : undefined;
    if (p && typeof p.tag === 'string') throw new HostError(p.tag, String(p.val));
    throw e;
  }
}

// ---- the export -----------------------------------------------------------

/**
 * Make the component's `handler` export from a function `(event) => actions`.
 *
 * `handle` gets an {@link Event} and returns a list of actions: builders
 * ({@link OpenCase}...), Shopify operations ({@link shopify}) or raw WIT
 * action values. Throw a {@link PluginError} to fail; any other uncaught
 * exception becomes a non-retryable plugin error naming it (and an uncaught
 * {@link HostError} becomes what `toPluginError()` says), so the admin sees
 * a message rather than a bare trap.
 *
 * Warm-up: `definePlugin` runs `handle` on sample events when the module is
 * first evaluated. In a component that happens once, at build time, before
 * componentize-js snapshots the engine (Wizer), so the snapshot already
 * holds the plugin's compiled functions, the JSON parser's and the SDK's
 * warm state: each event then starts from a warm engine instead of
 * compiling the plugin again (docs/polyglot-performance.md). During the
 * warm-up the host functions are stubs (no settings, logs dropped, the
 * key-value store empty, history and case lookups unavailable) and whatever
 * `handle` returns or throws is discarded. By default one sample
 * `orders/create` event is used; pass `{ warmup: [{topic, payload}, ...] }`
 * to warm the paths your plugin takes, or `{ warmup: [] }` to skip it (a
 * plugin that calls the WIT imports directly, not through this SDK, must:
 * imports cannot be called at build time).
 *
 * @param {(event: Event) => Array<object>} handle
 * @param {{warmup?: Array<{topic: string, payload: object}>}} [options]
 * @returns {{handle: (raw: object) => Array<object>}}
 */
export function definePlugin(handle, { warmup = [SAMPLE_ORDER] } = {}) {
  if (typeof handle !== 'function') throw new TypeError('definePlugin expects a function (event) => actions');
  const exported = {
    handle(raw) {
      try {
        const out = handle(new Event(raw));
        if (!Array.isArray(out)) {
          throw new PluginError(`the handler returned ${describe(out)}, not a list of actions`);
        }
        return out.map(toAction);
      } catch (e) {
        if (e instanceof PluginError) throw e;
        if (e instanceof HostError) throw e.toPluginError();
        const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        throw new PluginError(`uncaught ${what}`);
      }
    },
  };
  warmUp(exported, warmup);
  return exported;
}

/** True while `definePlugin` warms the plugin up: host functions are stubs. */
let warming = false;

function warmUp(exported, samples) {
  warming = true;
  try {
    // Twice: the second run also warms what the first one only set up
    // (inline caches, shapes).
    for (let round = 0; round < 2; round++) {
      for (const sample of samples) {
        try {
          exported.handle(sampleEvent(sample));
        } catch {
          // A plugin error on a sample is fine: only the warmth is kept.
        }
      }
    }
  } finally {
    warming = false;
  }
}

/** A WIT event for a `{topic, payload}` sample, with the resources the host would fill. */
function sampleEvent({ topic, payload }) {
  const id = (v) => (typeof v === 'number' || typeof v === 'string') && /^[0-9]+$/.test(String(v)) ? BigInt(v) : undefined;
  const isOrder = topic.startsWith('orders/');
  return {
    id: 'evt_warmup',
    shopifyEventId: undefined,
    shop: 'warmup.myshopify.com',
    topic,
    apiVersion: '2026-07',
    triggeredAt: '2026-01-01T00:00:00Z',
    resources: {
      orderId: isOrder ? id(payload.id) : id(payload.order_id),
      customerId: id(payload.customer && payload.customer.id),
      returnId: topic.startsWith('returns/') ? id(payload.id) : undefined,
      disputeId: topic.startsWith('disputes/') ? id(payload.id) : undefined,
      fulfillmentId: topic.startsWith('fulfillments/') ? id(payload.id) : undefined,
      caseId: undefined,
    },
    payload: JSON.stringify(payload),
  };
}

/** The default warm-up event: a typical `orders/create` (as the host minimises it). */
const SAMPLE_ORDER = Object.freeze({
  topic: 'orders/create',
  payload: {
    id: 5800000000001, admin_graphql_api_id: 'gid://shopify/Order/5800000000001', name: '#1001', order_number: 1001,
    created_at: '2026-01-01T00:00:00-05:00', updated_at: '2026-01-01T00:00:00-05:00', processed_at: '2026-01-01T00:00:00-05:00',
    cancelled_at: null, cancel_reason: null, closed_at: null, currency: 'USD', presentment_currency: 'USD',
    total_price: '1000.00', subtotal_price: '960.00', current_total_price: '1000.00', total_tax: '40.00',
    total_discounts: '0.00', total_outstanding: '0.00', total_weight: 1200, financial_status: 'paid',
    fulfillment_status: null, tags: 'vip, repeat', note: null, note_attributes: [{ name: 'source', value: 'web' }],
    test: false, source_name: 'web', payment_gateway_names: ['shopify_payments'], discount_codes: [],
    shipping_address: { city: 'Portland', province: 'Oregon', province_code: 'OR', country: 'United States', country_code: 'US', zip: '97205' },
    customer: { id: 7000000000001, state: 'enabled', verified_email: true, currency: 'USD', created_at: '2025-01-01T00:00:00-05:00' },
    line_items: [
      { id: 1530000000001, title: 'Walnut desk lamp', name: 'Walnut desk lamp - Natural', quantity: 2, price: '240.00', sku: 'LAMP-1', grams: 600, product_id: 900000001, variant_id: 4700000001, vendor: 'Maple & Thread', requires_shipping: true, taxable: true, gift_card: false, total_discount: '0.00', tax_lines: [], properties: [] },
      { id: 1530000000002, title: 'Linen throw', name: 'Linen throw - Sand', quantity: 1, price: '480.00', sku: 'THROW-2', grams: 600, product_id: 900000002, variant_id: 4700000002, vendor: 'Maple & Thread', requires_shipping: true, taxable: true, gift_card: false, total_discount: '0.00', tax_lines: [], properties: [] },
    ],
    shipping_lines: [{ id: 4400000001, code: 'Standard', price: '40.00', title: 'Standard Shipping' }],
  },
});

function describe(v) {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v;
}

const CASE_ACTIONS = new Set([
  'open-case', 'update-case', 'comment', 'attach-document', 'create-task', 'request-approval', 'follow-up',
]);
const SHOPIFY_OPERATIONS = new Set([
  'tags-add', 'tags-remove', 'note-append', 'set-metafield', 'hold-fulfillment', 'release-fulfillment',
  'cancel-order', 'approve-return', 'decline-return', 'refund', 'store-credit',
]);

/** A builder, a Shopify operation or a WIT action → a WIT action. */
export function toAction(a) {
  if (a && typeof a.toAction === 'function') return a.toAction();
  if (a && typeof a.tag === 'string') {
    if (CASE_ACTIONS.has(a.tag) || a.tag === 'shopify') return a;
    if (SHOPIFY_OPERATIONS.has(a.tag)) return { tag: 'shopify', val: a };
  }
  throw new PluginError(`not an action: ${describe(a)}${a && a.tag ? ` with tag \`${a.tag}\`` : ''}`);
}

// ---- the event ------------------------------------------------------------

/**
 * One event, as the host hands it over: the envelope fields, the
 * `resources` the host filled (prefer them to ids read from the payload:
 * they are the ones actions may name, and they are exact BigInts), and the
 * payload as JSON text with typed views.
 */
export class Event {
  constructor(raw) {
    /** The host's id for this event, stable across retries. */
    this.id = raw.id;
    /** Shopify's `X-Shopify-Event-Id`, or undefined for host events. */
    this.shopifyEventId = raw.shopifyEventId;
    /** The store's `*.myshopify.com` domain. */
    this.shop = raw.shop;
    /** e.g. `orders/create`, `corecase/case-updated`, `timer/fired`. */
    this.topic = raw.topic;
    /** The Admin API version of the payload, e.g. `2026-07`. */
    this.apiVersion = raw.apiVersion;
    /** When the event happened: the plugin's only "now" (RFC 3339). */
    this.triggeredAt = raw.triggeredAt;
    /** `{orderId, customerId, returnId, disputeId, fulfillmentId, caseId}`: BigInts (caseId a string) or undefined. */
    this.resources = raw.resources ?? {};
    /** The payload as JSON text. */
    this.payloadText = raw.payload;
    this._payload = undefined;
  }

  /** The payload, parsed (once). Shopify ids above 2^53 lose precision here: use `resources`. */
  payload() {
    if (this._payload === undefined) {
      try {
        this._payload = JSON.parse(this.payloadText);
      } catch (e) {
        throw new PluginError(`${this.topic} payload is not JSON: ${e.message}`);
      }
    }
    return this._payload;
  }

  /** The payload of `orders/*` topics, as an {@link Order} view. */
  order() {
    return new Order(this.payload());
  }

  /** The event's own order id (BigInt), or a PluginError naming what is missing. */
  orderId() { return this._own('orderId', 'order'); }
  /** The event's own customer id (BigInt). */
  customerId() { return this._own('customerId', 'customer'); }
  /** The event's own return id (BigInt). */
  returnId() { return this._own('returnId', 'return'); }
  /** The event's own dispute id (BigInt). */
  disputeId() { return this._own('disputeId', 'dispute'); }
  /** The event's own fulfillment id (BigInt). */
  fulfillmentId() { return this._own('fulfillmentId', 'fulfillment'); }
  /** The Core Case case id (string). */
  caseId() { return this._own('caseId', 'case'); }

  /** The key of this plugin's `caseType` case about the event's order. */
  orderKey(caseType) { return caseKey(caseType, Subject.order(this.orderId())); }
  /** The key of this plugin's `caseType` case about the event's return. */
  returnKey(caseType) { return caseKey(caseType, Subject.return(this.returnId())); }
  /** The key of this plugin's `caseType` case about the event's dispute. */
  disputeKey(caseType) { return caseKey(caseType, Subject.dispute(this.disputeId())); }
  /** The key of this plugin's `caseType` case about the event's customer. */
  customerKey(caseType) { return caseKey(caseType, Subject.customer(this.customerId())); }

  _own(field, what) {
    const v = this.resources[field];
    if (v === undefined || v === null) throw new PluginError(`${this.topic} event ${this.id} has no ${what}`);
    return v;
  }
}

/**
 * A tolerant view of an `orders/*` payload: missing or `null` fields read
 * as empty values, never as exceptions. `raw` is the parsed payload for
 * anything not covered here.
 */
export class Order {
  constructor(raw) {
    /** The payload object. */
    this.raw = raw && typeof raw === 'object' ? raw : {};
  }

  /** Shopify's order id as a Number (exact below 2^53; prefer `event.orderId()`). */
  get id() { return numberOr(this.raw.id, 0); }
  /** e.g. `#1042`. */
  get name() { return stringOr(this.raw.name, ''); }
  /** Decimal string, verbatim (e.g. `"612.40"`), or `''`. */
  get totalPrice() { return stringOr(this.raw.total_price, ''); }
  /** Decimal string. */
  get subtotalPrice() { return stringOr(this.raw.subtotal_price, ''); }
  /** Decimal string. */
  get currentTotalPrice() { return stringOr(this.raw.current_total_price, ''); }
  /** ISO 4217, e.g. `EUR`. */
  get currency() { return stringOr(this.raw.currency, ''); }
  /** Whether Shopify flagged the order as a test. */
  get test() { return this.raw.test === true; }
  /** e.g. `paid`, or `''`. */
  get financialStatus() { return stringOr(this.raw.financial_status, ''); }
  /** e.g. `fulfilled`, or `''`. */
  get fulfillmentStatus() { return stringOr(this.raw.fulfillment_status, ''); }
  /** The line items (raw objects). */
  get lineItems() { return Array.isArray(this.raw.line_items) ? this.raw.line_items : []; }
  /** The customer's id as a Number, or undefined (prefer `event.customerId()`). */
  get customerId() {
    const c = this.raw.customer;
    return c && typeof c.id === 'number' && c.id !== 0 ? c.id : undefined;
  }
  /** Whether the order was cancelled. */
  get cancelled() { return typeof this.raw.cancelled_at === 'string'; }

  /** The tags as a list: `"VIP, wholesale"` → `['VIP', 'wholesale']`. */
  tags() { return splitTags(stringOr(this.raw.tags, '')); }
  /** Whether the order has a tag (case-insensitive, like Shopify). */
  hasTag(tag) { const t = tag.toLowerCase(); return this.tags().some((x) => x.toLowerCase() === t); }
  /** Units bought, over all line items. */
  itemCount() { return this.lineItems.reduce((n, l) => n + numberOr(l && l.quantity, 0), 0); }
  /** `total_price` as a Number, or undefined if it is not a strict decimal string. */
  totalPriceNumber() { return money.parseNumber(this.totalPrice); }
  /** `total_price` in cents (a Number), exactly, or undefined. */
  totalPriceCents() { return money.parseCents(this.totalPrice); }
}

function stringOr(v, d) { return typeof v === 'string' ? v : d; }
function numberOr(v, d) { return typeof v === 'number' && Number.isFinite(v) ? v : d; }

/** Shopify's comma-separated tags as a list (empty entries dropped). */
export function splitTags(s) {
  return s.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
}

// ---- money ----------------------------------------------------------------

const DECIMAL = /^-?[0-9]+(\.[0-9]+)?$/;

/**
 * Money amounts as Shopify writes them: strict decimal strings (`-`?
 * digits, optionally `.` and digits; no exponent, `+`, spaces or
 * separators), as in the Rust SDK.
 */
export const money = Object.freeze({
  /** Whether `s` is a decimal amount in the accepted form. */
  isDecimal(s) {
    return typeof s === 'string' && DECIMAL.test(s);
  },
  /** The amount as a Number (for comparisons with `number` settings), or undefined. */
  parseNumber(s) {
    return money.isDecimal(s) ? Number(s) : undefined;
  },
  /** `"1243.87"` → `124387`; undefined if not decimal, a third non-zero decimal, or beyond 2^53. */
  parseCents(s) {
    if (!money.isDecimal(s)) return undefined;
    const negative = s.startsWith('-');
    const [int, frac = ''] = (negative ? s.slice(1) : s).split('.');
    if (/[1-9]/.test(frac.slice(2))) return undefined;
    const cents = Number(int) * 100 + Number((frac.slice(0, 2) + '00').slice(0, 2));
    if (!Number.isSafeInteger(cents)) return undefined;
    return negative ? -cents : cents;
  },
  /** `124387` → `"1243.87"`; always two decimals. */
  formatCents(cents) {
    const sign = cents < 0 ? '-' : '';
    const abs = Math.abs(cents);
    return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
  },
});

// ---- action builders ------------------------------------------------------

/** Case priorities (WIT `priority`). */
export const Priority = Object.freeze({ LOW: 'low', MEDIUM: 'medium', HIGH: 'high', CRITICAL: 'critical' });

/** Case statuses (WIT `case-status`). */
export const CaseStatus = Object.freeze({
  NEW: 'new', IN_PROGRESS: 'in-progress', ON_HOLD: 'on-hold', PENDING_APPROVAL: 'pending-approval',
  APPROVED: 'approved', REJECTED: 'rejected', RESOLVED: 'resolved', CLOSED: 'closed',
  CANCELLED: 'cancelled', REOPENED: 'reopened',
});

/** What a case is about (WIT `subject`). Ids are BigInts (Numbers are converted). */
export const Subject = Object.freeze({
  order: (id) => ({ tag: 'order', val: BigInt(id) }),
  return: (id) => ({ tag: 'return', val: BigInt(id) }),
  dispute: (id) => ({ tag: 'dispute', val: BigInt(id) }),
  customer: (id) => ({ tag: 'customer', val: BigInt(id) }),
});

/** Where a tag, note or metafield change goes (WIT `target`). */
export const Target = Object.freeze({
  order: (id) => ({ tag: 'order', val: BigInt(id) }),
  customer: (id) => ({ tag: 'customer', val: BigInt(id) }),
});

/** A case key: a case type granted in the manifest and the event's own subject. */
export function caseKey(caseType, subject) {
  return { caseType, subject };
}

/** Files for cases (WIT `document`); `content` is bytes. */
export const Document = Object.freeze({
  /** A file with any content type; `content` a string (UTF-8) or a Uint8Array. */
  of(name, contentType, description, content) {
    const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    return { name, contentType, description, content: bytes };
  },
  /** A Markdown file (`text/markdown`), e.g. an order dossier. */
  markdown(name, description, text) { return Document.of(name, 'text/markdown', description, text); },
  /** A plain text file. */
  text(name, description, text) { return Document.of(name, 'text/plain', description, text); },
  /** A JSON file from a value. */
  json(name, description, value) { return Document.of(name, 'application/json', description, JSON.stringify(value)); },
});

/** Open a case (or update the one already linked to its key). */
export class OpenCase {
  constructor(key, title) {
    this.v = {
      key, title, summary: '', priority: Priority.MEDIUM, owner: undefined, ownerGroup: undefined,
      due: undefined, attributes: [], documents: [],
    };
  }
  /** What happened and what is asked of the case worker. */
  summary(s) { this.v.summary = s; return this; }
  /** See {@link Priority}. */
  priority(p) { this.v.priority = p; return this; }
  /** A named case worker. */
  owner(o) { this.v.owner = o; return this; }
  /** The team that owns the case. */
  ownerGroup(g) { this.v.ownerGroup = g; return this; }
  /** When the case is due (RFC 3339). */
  due(d) { this.v.due = d; return this; }
  /** Add a custom attribute (values are converted to strings). */
  attribute(name, value) { this.v.attributes.push({ name, value: String(value) }); return this; }
  /** Attach a file (see {@link Document}). */
  document(d) { this.v.documents.push(d); return this; }
  /** The WIT action. */
  toAction() { return { tag: 'open-case', val: this.v }; }
}

/** Change a linked case; fields left unset are not touched. */
export class UpdateCase {
  constructor(key) {
    this.v = {
      key, status: undefined, reason: undefined, resolution: undefined, priority: undefined, owner: undefined,
      ownerGroup: undefined, due: undefined, escalationLevel: undefined, attributes: [],
    };
  }
  status(s) { this.v.status = s; return this; }
  reason(r) { this.v.reason = r; return this; }
  resolution(code, notes) { this.v.resolution = { code, notes }; return this; }
  priority(p) { this.v.priority = p; return this; }
  owner(o) { this.v.owner = o; return this; }
  ownerGroup(g) { this.v.ownerGroup = g; return this; }
  due(d) { this.v.due = d; return this; }
  /** Escalation level, 0 to 5. */
  escalationLevel(l) { this.v.escalationLevel = l; return this; }
  attribute(name, value) { this.v.attributes.push({ name, value: String(value) }); return this; }
  toAction() { return { tag: 'update-case', val: this.v }; }
}

/** A work item on a linked case for a team. */
export class CreateTask {
  constructor(key, title, team) {
    this.v = { key, title, description: '', team, owner: undefined, due: undefined };
  }
  description(d) { this.v.description = d; return this; }
  owner(o) { this.v.owner = o; return this; }
  due(d) { this.v.due = d; return this; }
  toAction() { return { tag: 'create-task', val: this.v }; }
}

/** Hold a Shopify operation until a person approves it in Core Case. */
export class RequestApproval {
  constructor(key, title, approverGroup, operation) {
    this.v = { key, title, description: '', approverGroup, due: undefined, operation };
  }
  description(d) { this.v.description = d; return this; }
  due(d) { this.v.due = d; return this; }
  toAction() { return { tag: 'request-approval', val: this.v }; }
}

/** Add a comment to a linked case. */
export const comment = Object.freeze({
  /** Visible to case workers only. */
  internal: (key, text) => ({ tag: 'comment', val: { key, text, visibility: 'internal' } }),
  /** Shown wherever Core Case shows public comments. */
  public: (key, text) => ({ tag: 'comment', val: { key, text, visibility: 'public' } }),
});

/** Attach a file to a linked case. */
export function attachDocument(key, document) {
  return { tag: 'attach-document', val: { key, document } };
}

/** Ask to be called again at `due` (RFC 3339) with a `timer/fired` event carrying `data`. */
export function followUp(name, due, data = null) {
  return { tag: 'follow-up', val: { name, due, data: JSON.stringify(data) } };
}

/** Operations on the event's Shopify store (WIT `shopify-operation`). */
export const shopify = Object.freeze({
  /** Add tags to the event's order or customer. */
  tagsAdd: (target, tags) => ({ tag: 'tags-add', val: { target, tags: [...tags] } }),
  /** Remove tags. */
  tagsRemove: (target, tags) => ({ tag: 'tags-remove', val: { target, tags: [...tags] } }),
  /** Append a line to the note (once). */
  noteAppend: (target, text) => ({ tag: 'note-append', val: { target, text } }),
  /** Set one metafield; `type` is a Shopify metafield type, `value` its string form. */
  setMetafield: (target, namespace, key, type, value) => ({
    tag: 'set-metafield', val: { target, namespace, key, type, value },
  }),
  /** Hold the order's fulfillment under `handle`; `reason` e.g. `high-risk-of-fraud`. */
  hold: (orderId, reason, handle, notes = '') => ({
    tag: 'hold-fulfillment', val: { orderId: BigInt(orderId), reason, notes, handle },
  }),
  /** Release the hold placed under `handle`. */
  release: (orderId, handle) => ({ tag: 'release-fulfillment', val: { orderId: BigInt(orderId), handle } }),
  /** Cancel the order; `reason` e.g. `fraud`. */
  cancelOrder: (orderId, reason, { restock = false, notifyCustomer = false, staffNote = '' } = {}) => ({
    tag: 'cancel-order', val: { orderId: BigInt(orderId), reason, restock, notifyCustomer, staffNote },
  }),
  /** Approve the event's return. */
  approveReturn: (returnId, { notifyCustomer = false } = {}) => ({
    tag: 'approve-return', val: { returnId: BigInt(returnId), notifyCustomer },
  }),
  /** Decline the event's return; `reason` e.g. `final-sale`. */
  declineReturn: (returnId, reason, note, { notifyCustomer = false } = {}) => ({
    tag: 'decline-return', val: { returnId: BigInt(returnId), reason, note, notifyCustomer },
  }),
  /** Refund `amount` (decimal string) in the order's currency. */
  refund: (orderId, amount, currency, { note = '', notifyCustomer = false } = {}) => ({
    tag: 'refund', val: { orderId: BigInt(orderId), amount, currency, note, notifyCustomer },
  }),
  /** Credit the customer's store credit account. */
  storeCredit: (customerId, amount, currency, { expiresAt = undefined, notifyCustomer = false } = {}) => ({
    tag: 'store-credit', val: { customerId: BigInt(customerId), amount, currency, expiresAt, notifyCustomer },
  }),
});

// ---- host functions -------------------------------------------------------

/** Write a line to the host's log (grant: `log`). */
export const log = Object.freeze({
  trace: (message) => writeLog('trace', message),
  debug: (message) => writeLog('debug', message),
  info: (message) => writeLog('info', message),
  warn: (message) => writeLog('warn', message),
  error: (message) => writeLog('error', message),
});

function writeLog(level, message) {
  const text = String(message);
  if (!warming) wit.log(level, text);
}

/** The WIT `setting` import, or nothing during the warm-up (every setting at its default). */
function witSetting(name) {
  return warming ? undefined : wit.setting(name);
}

/** Store settings, customer history and case links (grants: `settings`, `customer-history`, `case-lookup`). */
export const host = Object.freeze({
  /**
   * A setting's value as the admin chose it (or its manifest default), as a
   * plain JavaScript value (`integer` settings are BigInts), or undefined if
   * the manifest declares no such setting.
   */
  setting(name) {
    const v = witSetting(name);
    return v === undefined || v === null ? undefined : v.val;
  },
  /** A `text` setting, or `dflt` if it is not declared or not text. */
  settingText(name, dflt) {
    const v = witSetting(name);
    return v && v.tag === 'text' ? v.val : dflt;
  },
  /** A `number` (or `integer`) setting as a Number, or `dflt`. */
  settingNumber(name, dflt) {
    const v = witSetting(name);
    if (v && v.tag === 'number') return v.val;
    if (v && v.tag === 'integer') return Number(v.val);
    return dflt;
  },
  /** An `integer` setting as a Number, or `dflt`. */
  settingInteger(name, dflt) {
    const v = witSetting(name);
    return v && v.tag === 'integer' ? Number(v.val) : dflt;
  },
  /** A `boolean` setting, or `dflt`. */
  settingBool(name, dflt) {
    const v = witSetting(name);
    return v && v.tag === 'boolean' ? v.val : dflt;
  },
  /** A `text-list` setting, or `dflt`. */
  settingList(name, dflt) {
    const v = witSetting(name);
    return v && v.tag === 'text-list' ? v.val : dflt;
  },
  /** The event's own customer's history (throws {@link HostError}). */
  customerHistory(customerId) {
    return hostCall(() => wit.customerHistory(BigInt(customerId)));
  },
  /** The case linked to `key`, or undefined (throws {@link HostError}). */
  linkedCase(key) {
    return hostCall(() => wit.linkedCase(key));
  },
});

/** The plugin's key-value store for this store (grant: `kv`). Methods throw {@link HostError}. */
export const kv = Object.freeze({
  /** The value of `key`, or undefined if missing or expired. */
  get(key) {
    if (warming) return undefined;
    const v = hostCall(() => wit.kvGet(key));
    return v === null ? undefined : v;
  },
  /** Write `value` under `key`, expiring `ttlSeconds` after the event's `triggeredAt` if given. */
  set(key, value, { ttlSeconds = undefined } = {}) {
    if (warming) return;
    hostCall(() => wit.kvSet(key, value, ttlSeconds));
  },
  /** Delete `key` (a missing key is not an error). */
  delete(key) {
    if (warming) return;
    hostCall(() => wit.kvDelete(key));
  },
});
