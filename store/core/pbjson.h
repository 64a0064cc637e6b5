/* Any protobuf-c message as JSON, walked through its descriptor: field
 * names as in the .proto file; every field present (proto3 defaults
 * included, proto2 optionals only when set, a oneof only for its chosen
 * member); repeated fields as arrays, nested messages as objects (null when
 * unset), bytes as base64, enums as numbers unless asked for names. Pure,
 * thread-safe. */
#pragma once

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

enum {
        /* Enums by their value's name ("RUNNING") instead of the number. */
        PBJSON_ENUM_NAMES = 1 << 0,
        /* uint64 values above INT64_MAX as decimal strings. */
        PBJSON_U64_STRINGS = 1 << 1,
};

/* A new JSON object for m (its descriptor must be set); -ENOMEM. */
int pbjson_message(const ProtobufCMessage *m, unsigned flags, json_t **ret);
