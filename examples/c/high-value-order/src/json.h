// A small, strict JSON reader for plugin payloads: find members of an
// object, read strings (with every escape decoded), booleans and array
// lengths. It never allocates except for decoded strings, never recurses
// deeper than JSON_MAX_DEPTH, and reports malformed input instead of
// guessing.
//
// Values are spans of the original text; a span is checked as a whole
// JSON value when it is found, so the accessors below only decode.

#ifndef SHOPCASE_EXAMPLE_JSON_H
#define SHOPCASE_EXAMPLE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_MAX_DEPTH 64

typedef enum {
  JSON_INVALID = 0,
  JSON_NULL,
  JSON_FALSE,
  JSON_TRUE,
  JSON_NUMBER,
  JSON_STRING,
  JSON_ARRAY,
  JSON_OBJECT,
} json_kind;

// One JSON value: `len` bytes of text starting at `ptr`.
typedef struct {
  const char *ptr;
  size_t len;
  json_kind kind;
} json_value;

// Check that `text` is exactly one JSON value (surrounding white space
// allowed) and return it; kind JSON_INVALID if it is not.
json_value json_parse(const char *text, size_t len);

// The member `key` of an object (the last one, if the key repeats, as
// JavaScript, Python and serde_json do); kind JSON_INVALID if `object` is
// not an object or has no such member.
json_value json_get(json_value object, const char *key);

// The number of elements of an array, or -1 if `array` is not an array.
long json_array_len(json_value array);

// Decode a string value into a fresh NUL-terminated UTF-8 buffer (`*out`,
// free it) of `*out_len` bytes. False if it is not a string, or on
// malformed escapes or out of memory.
bool json_string(json_value string, char **out, size_t *out_len);

#endif
