/* Helpers over protobuf-c: pack/unpack (the only place that calls
 * protobuf-c's (un)packing directly), the type of an Any, string map
 * entries. Used by rpc/ for messages on the wire and by store/ for the
 * protobuf blobs of a checkpoint. Thread-safe. */
#pragma once

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "google_any.pb-c.h"

void pb_msg_free(void *msg);  /* NULL-safe, any unpacked message */
static inline void pb_msg_freep(void *p) { void **m = p; if (*m) pb_msg_free(*m); }
#define _cleanup_pb_msg_ __attribute__((cleanup(pb_msg_freep)))

/* Packs `msg` into a new buffer (caller frees); -ENOMEM, -EIO. */
int pb_msg_pack(const ProtobufCMessage *msg, uint8_t **ret_buf, size_t *ret_len);
/* Whether a google.protobuf.Any holds a message of `desc`: its type URL is
 * the full name, bare as containerd writes it ("containerd.events.TaskPaused")
 * or after a host ("type.googleapis.com/..."). */
bool pb_any_is(const Google__Protobuf__Any *any, const ProtobufCMessageDescriptor *desc);

/* A string-to-string map entry (map<string, string> in a .proto): every
 * such entry protobuf-c generates has this layout, which
 * pb_str_entries_init() checks against the entry's descriptor. */
typedef struct pb_str_entry {
        ProtobufCMessage base;
        char *key;
        char *value;
} pb_str_entry;
/* Fills entries[0..n) from the key/value pairs kv[2i], kv[2i+1] (borrowed)
 * as messages of `desc`, and ptrs[i] = &entries[i]: the array a generated
 * message's map field points to (cast it to the entry type). -EINVAL when
 * desc is not a string-to-string entry. */
int pb_str_entries_init(const ProtobufCMessageDescriptor *desc, const char *const *kv, size_t n,
                        pb_str_entry *entries, pb_str_entry **ptrs);

/* Unpacks; -EBADMSG when the bytes are not a valid message of that type. */
int pb_msg_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                  ProtobufCMessage **ret_msg);
