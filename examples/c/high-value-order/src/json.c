// See json.h. The grammar is RFC 8259's; the input is a WIT string, so it is
// already valid UTF-8.

#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

static int hex4(const char *p, const char *end) {
  if (end - p < 4) return -1;
  int v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    int d = (c >= '0' && c <= '9') ? c - '0'
          : (c >= 'a' && c <= 'f') ? c - 'a' + 10
          : (c >= 'A' && c <= 'F') ? c - 'A' + 10
          : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// p at the opening quote; returns the byte after the closing quote.
static const char *skip_string(const char *p, const char *end) {
  p++;
  while (p < end) {
    unsigned char c = (unsigned char)*p;
    if (c == '"') return p + 1;
    if (c < 0x20) return NULL;
    if (c == '\\') {
      p++;
      if (p >= end) return NULL;
      switch (*p) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
          p++;
          break;
        case 'u':
          if (hex4(p + 1, end) < 0) return NULL;
          p += 5;
          break;
        default:
          return NULL;
      }
    } else {
      p++;
    }
  }
  return NULL;
}

static const char *skip_digits(const char *p, const char *end) {
  const char *start = p;
  while (p < end && *p >= '0' && *p <= '9') p++;
  return p == start ? NULL : p;
}

static const char *skip_number(const char *p, const char *end) {
  if (p < end && *p == '-') p++;
  if (p < end && *p == '0') {
    p++;
  } else {
    p = skip_digits(p, end);
    if (!p) return NULL;
  }
  if (p < end && *p == '.') {
    p = skip_digits(p + 1, end);
    if (!p) return NULL;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-')) p++;
    p = skip_digits(p, end);
  }
  return p;
}

static const char *skip_literal(const char *p, const char *end, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(end - p) < n || memcmp(p, word, n) != 0) return NULL;
  return p + n;
}

// Skip one value starting at p (no leading white space); NULL if malformed.
static const char *skip_value(const char *p, const char *end, int depth, json_kind *kind) {
  if (p >= end || depth > JSON_MAX_DEPTH) return NULL;
  switch (*p) {
    case '"':
      *kind = JSON_STRING;
      return skip_string(p, end);
    case 't':
      *kind = JSON_TRUE;
      return skip_literal(p, end, "true");
    case 'f':
      *kind = JSON_FALSE;
      return skip_literal(p, end, "false");
    case 'n':
      *kind = JSON_NULL;
      return skip_literal(p, end, "null");
    case '[': {
      *kind = JSON_ARRAY;
      p = skip_ws(p + 1, end);
      if (p < end && *p == ']') return p + 1;
      for (;;) {
        json_kind k;
        p = skip_value(p, end, depth + 1, &k);
        if (!p) return NULL;
        p = skip_ws(p, end);
        if (p >= end) return NULL;
        if (*p == ']') return p + 1;
        if (*p != ',') return NULL;
        p = skip_ws(p + 1, end);
      }
    }
    case '{': {
      *kind = JSON_OBJECT;
      p = skip_ws(p + 1, end);
      if (p < end && *p == '}') return p + 1;
      for (;;) {
        if (p >= end || *p != '"') return NULL;
        p = skip_string(p, end);
        if (!p) return NULL;
        p = skip_ws(p, end);
        if (p >= end || *p != ':') return NULL;
        json_kind k;
        p = skip_value(skip_ws(p + 1, end), end, depth + 1, &k);
        if (!p) return NULL;
        p = skip_ws(p, end);
        if (p >= end) return NULL;
        if (*p == '}') return p + 1;
        if (*p != ',') return NULL;
        p = skip_ws(p + 1, end);
      }
    }
    default:
      *kind = JSON_NUMBER;
      return skip_number(p, end);
  }
}

json_value json_parse(const char *text, size_t len) {
  json_value none = {NULL, 0, JSON_INVALID};
  const char *end = text + len;
  const char *start = skip_ws(text, end);
  json_kind kind;
  const char *after = skip_value(start, end, 0, &kind);
  if (!after || skip_ws(after, end) != end) return none;
  json_value v = {start, (size_t)(after - start), kind};
  return v;
}

// Append one code point as UTF-8.
static char *put_utf8(char *o, uint32_t cp) {
  if (cp < 0x80) {
    *o++ = (char)cp;
  } else if (cp < 0x800) {
    *o++ = (char)(0xC0 | (cp >> 6));
    *o++ = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *o++ = (char)(0xE0 | (cp >> 12));
    *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *o++ = (char)(0x80 | (cp & 0x3F));
  } else {
    *o++ = (char)(0xF0 | (cp >> 18));
    *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
    *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *o++ = (char)(0x80 | (cp & 0x3F));
  }
  return o;
}

bool json_string(json_value s, char **out, size_t *out_len) {
  if (s.kind != JSON_STRING || s.len < 2) return false;
  const char *p = s.ptr + 1, *end = s.ptr + s.len - 1;
  // Decoding never grows the text: an escape is at least as long as its UTF-8.
  char *buf = malloc(s.len);
  if (!buf) return false;
  char *o = buf;
  while (p < end) {
    if (*p != '\\') {
      *o++ = *p++;
      continue;
    }
    p++;
    char e = *p++;
    switch (e) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '/': *o++ = '/'; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      case 'u': {
        int hi = hex4(p, end);
        if (hi < 0) goto bad;
        p += 4;
        uint32_t cp = (uint32_t)hi;
        if (hi >= 0xD800 && hi <= 0xDBFF) {
          // A surrogate pair: the low half must follow.
          if (end - p < 6 || p[0] != '\\' || p[1] != 'u') goto bad;
          int lo = hex4(p + 2, end);
          if (lo < 0xDC00 || lo > 0xDFFF) goto bad;
          p += 6;
          cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
        } else if (hi >= 0xDC00 && hi <= 0xDFFF) {
          goto bad;  // a lone low surrogate is not a character
        }
        o = put_utf8(o, cp);
        break;
      }
      default:
        goto bad;
    }
  }
  *o = '\0';
  *out = buf;
  *out_len = (size_t)(o - buf);
  return true;
bad:
  free(buf);
  return false;
}

// Whether the string value `s` (a key) decodes to `key`.
static bool key_equals(json_value s, const char *key) {
  size_t n = strlen(key);
  if (memchr(s.ptr, '\\', s.len) == NULL) {
    return s.len == n + 2 && memcmp(s.ptr + 1, key, n) == 0;
  }
  char *decoded;
  size_t len;
  if (!json_string(s, &decoded, &len)) return false;
  bool eq = len == n && memcmp(decoded, key, n) == 0;
  free(decoded);
  return eq;
}

json_value json_get(json_value obj, const char *key) {
  json_value found = {NULL, 0, JSON_INVALID};
  if (obj.kind != JSON_OBJECT) return found;
  const char *end = obj.ptr + obj.len;
  const char *p = skip_ws(obj.ptr + 1, end);
  if (p < end && *p == '}') return found;
  // `obj` was checked when it was found, so the walk below cannot fail;
  // the NULL checks only keep it safe if it is handed a bad span.
  while (p && p < end && *p == '"') {
    const char *key_end = skip_string(p, end);
    if (!key_end) break;
    json_value k = {p, (size_t)(key_end - p), JSON_STRING};
    p = skip_ws(skip_ws(key_end, end) + 1, end);  // past ':'
    json_kind kind;
    const char *value_end = skip_value(p, end, 1, &kind);
    if (!value_end) break;
    if (key_equals(k, key)) {
      found.ptr = p;
      found.len = (size_t)(value_end - p);
      found.kind = kind;
    }
    p = skip_ws(value_end, end);
    if (p >= end || *p != ',') break;
    p = skip_ws(p + 1, end);
  }
  return found;
}

long json_array_len(json_value arr) {
  if (arr.kind != JSON_ARRAY) return -1;
  const char *end = arr.ptr + arr.len;
  const char *p = skip_ws(arr.ptr + 1, end);
  if (p < end && *p == ']') return 0;
  long n = 0;
  while (p && p < end) {
    json_kind kind;
    p = skip_value(p, end, 1, &kind);
    if (!p) return -1;
    n++;
    p = skip_ws(p, end);
    if (p >= end || *p != ',') break;
    p = skip_ws(p + 1, end);
  }
  return n;
}
