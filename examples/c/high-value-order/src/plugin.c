// high-value-order, in C: on `orders/create`, when the order's total reaches
// the `threshold` setting, open a case for the sales team and tag the order.
//
// The same behaviour is written in Rust, JavaScript and Python beside this
// one, and all four pass the same conformance fixtures
// (examples/fixtures/high-value-order). `cargo xtask` builds it: wit-bindgen
// generates plugin.h/plugin.c from wit/v0.1.0, clang compiles against
// wasi-libc as a reactor, and wit-component makes the component (with the
// WASI preview1 adapter, which this plugin does not end up needing: it calls
// no WASI function, so the component imports only the shopcase host).
//
// 1. `total_price` must be a decimal string; missing or anything else fails
//    with the non-retryable error `order payload has no total_price`.
// 2. A test order (`"test": true`) needs nothing.
// 3. Below the `threshold` setting (number, default 500) needs nothing.
// 4. Otherwise: `open-case` (priority `critical` from 4x the threshold,
//    `high` from 2x, else `medium`), then `tags-add` of the `tag` setting,
//    and one info log line.
//
// Memory: what the handler returns is freed by the generated post-return
// function, so every returned string and list is malloc'd; the event is
// owned by the handler and freed before it returns.

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "plugin.h"

#define CASE_TYPE "high-value-order"

typedef exports_shopcase_plugin_handler_event_t event_t;
typedef exports_shopcase_plugin_handler_list_action_t action_list_t;
typedef exports_shopcase_plugin_handler_plugin_error_t plugin_error_t;
typedef shopcase_plugin_types_action_t action_t;

// ---- a growable byte string -------------------------------------------------

typedef struct {
  char *ptr;
  size_t len, cap;
  bool failed;  // out of memory: every later append is a no-op
} buf_t;

static void buf_add(buf_t *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->len + n + 1) * 2;
    char *p = realloc(b->ptr, cap);
    if (!p) {
      b->failed = true;
      return;
    }
    b->ptr = p;
    b->cap = cap;
  }
  memcpy(b->ptr + b->len, s, n);
  b->len += n;
  b->ptr[b->len] = '\0';
}

static void buf_str(buf_t *b, const char *s) { buf_add(b, s, strlen(s)); }

// Move the bytes into a component-model string (which then owns them).
static bool buf_into(buf_t *b, plugin_string_t *out) {
  if (b->failed || !b->ptr) {
    free(b->ptr);
    out->ptr = NULL;
    out->len = 0;
    return !b->failed;
  }
  out->ptr = (uint8_t *)b->ptr;
  out->len = b->len;
  return true;
}

// ---- payload and settings -----------------------------------------------------

// A decoded payload string member, or "" when it is missing or not a string.
typedef struct {
  char *ptr;
  size_t len;
} text_t;

static text_t member_text(json_value obj, const char *key) {
  text_t t = {NULL, 0};
  json_value v = json_get(obj, key);
  if (v.kind != JSON_STRING || !json_string(v, &t.ptr, &t.len)) {
    t.ptr = calloc(1, 1);
    t.len = 0;
  }
  return t;
}

// The strict decimal form all the SDKs accept: `-`? digits (`.` digits)?
static bool is_decimal(const char *s, size_t n) {
  size_t i = 0;
  if (i < n && s[i] == '-') i++;
  size_t int_start = i;
  while (i < n && s[i] >= '0' && s[i] <= '9') i++;
  if (i == int_start) return false;
  if (i == n) return true;
  if (s[i] != '.') return false;
  size_t frac_start = ++i;
  while (i < n && s[i] >= '0' && s[i] <= '9') i++;
  return i > frac_start && i == n;
}

static double setting_number(const char *name, double dflt) {
  plugin_string_t n;
  plugin_string_set(&n, name);
  shopcase_plugin_host_setting_value_t v;
  if (!shopcase_plugin_host_setting(&n, &v)) return dflt;
  double r = dflt;
  if (v.tag == SHOPCASE_PLUGIN_HOST_SETTING_VALUE_NUMBER) r = v.val.number;
  if (v.tag == SHOPCASE_PLUGIN_HOST_SETTING_VALUE_INTEGER) r = (double)v.val.integer;
  shopcase_plugin_host_setting_value_free(&v);
  return r;
}

// A text setting into `out` (owned), or a copy of `dflt`.
static void setting_text(const char *name, const char *dflt, plugin_string_t *out) {
  plugin_string_t n;
  plugin_string_set(&n, name);
  shopcase_plugin_host_setting_value_t v;
  if (shopcase_plugin_host_setting(&n, &v)) {
    if (v.tag == SHOPCASE_PLUGIN_HOST_SETTING_VALUE_TEXT) {
      *out = v.val.text;  // take ownership of the host's string
      return;
    }
    shopcase_plugin_host_setting_value_free(&v);
  }
  plugin_string_dup(out, dflt);
}

// Decimal digits of `v` into `out` (at least 21 bytes); returns the length.
static size_t format_u64(uint64_t v, char *out) {
  char tmp[21];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  out[n] = '\0';
  return n;
}

// A number as Rust's `Display` writes it (and JavaScript's String(), and the
// Python SDK's format_number): no trailing `.0` when integral, otherwise the
// shortest decimal that reads back as the same double: 500, 750.5.
//
// No printf: stdio links WASI's fd_write, which the preview1 adapter can only
// provide through wasi:filesystem, an import the sandbox refuses. Candidates
// with 1, 2, ... decimals are built from integers and checked with strtod,
// which needs no WASI.
static void format_number(double x, char *out) {
  char *o = out;
  if (x < 0) {
    *o++ = '-';
    x = -x;
  }
  if (x == floor(x) && x < 1e15) {
    format_u64((uint64_t)x, o);
    return;
  }
  if (x < 1e15) {
    uint64_t whole = (uint64_t)floor(x);
    double scale = 1;
    for (int digits = 1; digits <= 17 && x * scale * 10 < 9e15; digits++) {
      scale *= 10;
      uint64_t scaled = (uint64_t)llround((x - (double)whole) * scale);
      if ((double)scaled >= scale) continue;  // rounded up to the next integer
      char *p = o + format_u64(whole, o);
      *p++ = '.';
      char frac[21];
      size_t n = format_u64(scaled, frac);
      for (int z = digits - (int)n; z > 0; z--) *p++ = '0';
      memcpy(p, frac, n + 1);
      if (strtod(out, NULL) == (out[0] == '-' ? -x : x)) return;
    }
  }
  // Out of the range settings use: whole part only.
  format_u64(x < 1.8e19 ? (uint64_t)x : UINT64_MAX, o);
}

// ---- the handler ----------------------------------------------------------------

static bool fail(plugin_error_t *err, const char *message) {
  plugin_string_dup(&err->message, message);
  err->retryable = false;
  return false;
}

static bool attribute(shopcase_plugin_types_attribute_t *a, const char *name, const char *value, size_t len) {
  plugin_string_dup(&a->name, name);
  plugin_string_dup_n(&a->value, value, len);
  return a->name.ptr && (a->value.ptr || len == 0);
}

static bool build(const event_t *event, json_value order, text_t name, text_t price, text_t currency,
                  double total, action_list_t *ret, plugin_error_t *err) {
  double threshold = setting_number("threshold", 500.0);
  if (total < threshold) {
    ret->ptr = NULL;
    ret->len = 0;
    return true;
  }
  shopcase_plugin_types_priority_t priority = total >= 4 * threshold   ? SHOPCASE_PLUGIN_TYPES_PRIORITY_CRITICAL
                                              : total >= 2 * threshold ? SHOPCASE_PLUGIN_TYPES_PRIORITY_HIGH
                                                                       : SHOPCASE_PLUGIN_TYPES_PRIORITY_MEDIUM;
  if (!event->resources.order_id.is_some) return fail(err, "orders/create event has no order");
  uint64_t order_id = event->resources.order_id.val;
  long line_items = json_array_len(json_get(order, "line_items"));
  if (line_items < 0) line_items = 0;

  action_t *actions = calloc(2, sizeof(action_t));
  shopcase_plugin_types_attribute_t *attrs = calloc(4, sizeof(shopcase_plugin_types_attribute_t));
  plugin_string_t *tags = calloc(1, sizeof(plugin_string_t));
  if (!actions || !attrs || !tags) {
    free(actions);
    free(attrs);
    free(tags);
    return fail(err, "out of memory");
  }

  // 1. open-case
  actions[0].tag = SHOPCASE_PLUGIN_TYPES_ACTION_OPEN_CASE;
  shopcase_plugin_types_open_case_t *oc = &actions[0].val.open_case;
  plugin_string_dup(&oc->key.case_type, CASE_TYPE);
  oc->key.subject.tag = SHOPCASE_PLUGIN_TYPES_SUBJECT_ORDER;
  oc->key.subject.val.order = order_id;

  buf_t title = {0};
  buf_str(&title, "High-value order ");
  buf_add(&title, name.ptr, name.len);
  bool ok = buf_into(&title, &oc->title);

  char threshold_text[64];
  format_number(threshold, threshold_text);
  buf_t summary = {0};
  buf_str(&summary, "Order ");
  buf_add(&summary, name.ptr, name.len);
  buf_str(&summary, " totals ");
  buf_add(&summary, price.ptr, price.len);
  buf_str(&summary, " ");
  buf_add(&summary, currency.ptr, currency.len);
  buf_str(&summary, ", above the ");
  buf_str(&summary, threshold_text);
  buf_str(&summary, " threshold.");
  ok = buf_into(&summary, &oc->summary) && ok;

  oc->priority = priority;
  oc->owner.is_some = false;
  oc->owner_group.is_some = true;
  setting_text("team", "sales-ops", &oc->owner_group.val);
  oc->due.is_some = false;

  char count[24];
  format_u64((uint64_t)line_items, count);
  ok = attribute(&attrs[0], "orderName", name.ptr, name.len) && ok;
  ok = attribute(&attrs[1], "totalPrice", price.ptr, price.len) && ok;
  ok = attribute(&attrs[2], "currency", currency.ptr, currency.len) && ok;
  ok = attribute(&attrs[3], "lineItems", count, strlen(count)) && ok;
  oc->attributes.ptr = attrs;
  oc->attributes.len = 4;
  oc->documents.ptr = NULL;
  oc->documents.len = 0;

  // 2. tags-add on the event's own order
  actions[1].tag = SHOPCASE_PLUGIN_TYPES_ACTION_SHOPIFY;
  shopcase_plugin_types_shopify_operation_t *op = &actions[1].val.shopify;
  op->tag = SHOPCASE_PLUGIN_TYPES_SHOPIFY_OPERATION_TAGS_ADD;
  op->val.tags_add.target.tag = SHOPCASE_PLUGIN_TYPES_TARGET_ORDER;
  op->val.tags_add.target.val.order = order_id;
  setting_text("tag", "high-value", &tags[0]);
  op->val.tags_add.tags.ptr = tags;
  op->val.tags_add.tags.len = 1;

  ret->ptr = actions;
  ret->len = 2;
  if (!ok) {
    exports_shopcase_plugin_handler_list_action_free(ret);
    ret->ptr = NULL;
    ret->len = 0;
    return fail(err, "out of memory");
  }

  buf_t line = {0};
  buf_str(&line, "order ");
  buf_add(&line, name.ptr, name.len);
  buf_str(&line, " above threshold: ");
  buf_add(&line, price.ptr, price.len);
  buf_str(&line, " ");
  buf_add(&line, currency.ptr, currency.len);
  if (!line.failed && line.ptr) {
    plugin_string_t msg = {(uint8_t *)line.ptr, line.len};
    shopcase_plugin_host_log(SHOPCASE_PLUGIN_HOST_LEVEL_INFO, &msg);
  }
  free(line.ptr);
  return true;
}

bool exports_shopcase_plugin_handler_handle(event_t *event, action_list_t *ret, plugin_error_t *err) {
  ret->ptr = NULL;
  ret->len = 0;
  bool result;
  json_value order = json_parse((const char *)event->payload.ptr, event->payload.len);
  if (order.kind != JSON_OBJECT) {
    result = fail(err, "orders/create payload is not a JSON object");
    goto done;
  }
  text_t price = member_text(order, "total_price");
  text_t name = member_text(order, "name");
  text_t currency = member_text(order, "currency");
  if (!price.ptr || !name.ptr || !currency.ptr) {
    result = fail(err, "out of memory");
  } else if (!is_decimal(price.ptr, price.len)) {
    result = fail(err, "order payload has no total_price");
  } else if (json_get(order, "test").kind == JSON_TRUE) {
    result = true;  // a test order needs nothing
  } else {
    result = build(event, order, name, price, currency, strtod(price.ptr, NULL), ret, err);
  }
  free(price.ptr);
  free(name.ptr);
  free(currency.ptr);
done:
  exports_shopcase_plugin_handler_event_free(event);
  return result;
}
