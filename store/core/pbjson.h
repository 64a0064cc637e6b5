/* Any protobuf-c message as JSON, walked through its descriptor: field
 * names as in the .proto file; every field present (proto3 defaults
 * included, proto2 optionals only when set, a oneof only for its chosen
 * member); repeated fields as arrays, nested messages as objects (null when
 * unset), bytes as base64, enums as numbers unless asked for names. A caller
 * may render chosen fields itself through struct pbjson_hooks (CRIU's image
 * decoder does, for crit's formats). Pure, thread-safe. */
#pragma once

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

enum {
        /* Enums by their value's name ("RUNNING") instead of the number. */
        PBJSON_ENUM_NAMES = 1 << 0,
        /* uint64 values above INT64_MAX as decimal strings. */
        PBJSON_U64_STRINGS = 1 << 1,
        /* Only the fields that are set, as protobuf's ListFields(): empty
         * repeated fields and unset proto2 optional strings left out. */
        PBJSON_SET_ONLY = 1 << 2,
        /* Bytes as Python's base64.encodebytes(): lines of 76 characters,
         * each ending in "\n" (nothing for empty bytes). */
        PBJSON_BYTES_LINES = 1 << 3,
};

struct pbjson_hooks;
/* Renders field f of m itself: returns 1 and sets *ret_value (a new
 * reference; for a repeated field the whole array), 0 to leave the field to
 * the default rendering, or -errno. Called only for fields to be shown. */
typedef int (*pbjson_field_fn)(const struct pbjson_hooks *hooks, const ProtobufCMessage *m,
                               const ProtobufCFieldDescriptor *f, unsigned flags, json_t **ret_value);
struct pbjson_hooks {
        pbjson_field_fn field;
        const void *userdata; /* the hook's own; pbjson never reads it */
};

/* A new JSON object for m (its descriptor must be set); -ENOMEM. */
int pbjson_message(const ProtobufCMessage *m, unsigned flags, json_t **ret);

/* The same, with hooks consulted for every field of m and of the messages
 * nested in it (hooks NULL: as pbjson_message). -ENOMEM or a hook's error. */
int pbjson_message_hooked(const ProtobufCMessage *m, unsigned flags, const struct pbjson_hooks *hooks,
                          json_t **ret);

/* The default JSON of one value of field f stored at p (one element of a
 * repeated field), nested messages rendered with hooks. NULL on -ENOMEM. */
json_t *pbjson_value(const ProtobufCFieldDescriptor *f, const void *p, unsigned flags,
                     const struct pbjson_hooks *hooks);

/* The size of one stored element of field f (the stride of its array). */
size_t pbjson_value_size(const ProtobufCFieldDescriptor *f);

/* Bytes as a base64 JSON string (PBJSON_BYTES_LINES honoured); NULL on
 * -ENOMEM. */
json_t *pbjson_base64(const uint8_t *data, size_t len, unsigned flags);
