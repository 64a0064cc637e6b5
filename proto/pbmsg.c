/* protobuf-c pack/unpack: the only place that calls protobuf-c directly. */
#include "pbmsg.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void pb_msg_free(void *msg) {
        if (msg)
                protobuf_c_message_free_unpacked(msg, NULL);
}

int pb_msg_pack(const ProtobufCMessage *msg, uint8_t **ret_buf, size_t *ret_len) {
        size_t len = protobuf_c_message_get_packed_size(msg);
        /* malloc(0) may return NULL: always allocate a byte. */
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf)
                return -ENOMEM;
        if (protobuf_c_message_pack(msg, buf) != len) {
                free(buf);
                return -EIO;
        }
        *ret_buf = buf;
        *ret_len = len;
        return 0;
}

int pb_msg_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                   ProtobufCMessage **ret_msg) {
        ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, buf);
        if (!m)
                return -EBADMSG;
        *ret_msg = m;
        return 0;
}

int pb_str_entries_init(const ProtobufCMessageDescriptor *desc, const char *const *kv, size_t n,
                        pb_str_entry *entries, pb_str_entry **ptrs) {
        if (desc->n_fields != 2 || desc->sizeof_message != sizeof(pb_str_entry) ||
            desc->fields[0].offset != offsetof(pb_str_entry, key) || desc->fields[0].type != PROTOBUF_C_TYPE_STRING ||
            desc->fields[1].offset != offsetof(pb_str_entry, value) || desc->fields[1].type != PROTOBUF_C_TYPE_STRING)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                protobuf_c_message_init(desc, &entries[i]);
                entries[i].key = (char *) kv[2 * i];
                entries[i].value = (char *) kv[2 * i + 1];
                ptrs[i] = &entries[i];
        }
        return 0;
}

bool pb_any_is(const Google__Protobuf__Any *any, const ProtobufCMessageDescriptor *desc) {
        if (!any || !any->type_url)
                return false;
        const char *slash = strrchr(any->type_url, '/');
        return strcmp(slash ? slash + 1 : any->type_url, desc->name) == 0;
}
