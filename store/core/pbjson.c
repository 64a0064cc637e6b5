#include "pbjson.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "json.h"

static json_t *bytes_json(const ProtobufCBinaryData *b) {
        static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t n = b->len, out_len = 4 * ((n + 2) / 3);
        char *s = malloc(out_len + 1), *o = s;
        if (!s)
                return NULL;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) b->data[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t) b->data[i + 1] << 8;
                if (i + 2 < n)
                        v |= b->data[i + 2];
                *o++ = tab[v >> 18 & 63];
                *o++ = tab[v >> 12 & 63];
                *o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
                *o++ = i + 2 < n ? tab[v & 63] : '=';
        }
        *o = '\0';
        json_t *j = json_stringn(s, out_len);
        free(s);
        return j;
}

static json_t *enum_json(const ProtobufCFieldDescriptor *f, int32_t v, unsigned flags) {
        if (flags & PBJSON_ENUM_NAMES) {
                const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
                if (ev)
                        return json_string(ev->name);
        }
        return json_integer(v);
}

static json_t *value_json(const ProtobufCFieldDescriptor *f, const void *p, unsigned flags) {
        switch (f->type) {
        case PROTOBUF_C_TYPE_BOOL:
                return json_boolean(*(const protobuf_c_boolean *) p);
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
                return json_integer(*(const int32_t *) p);
        case PROTOBUF_C_TYPE_ENUM:
                return enum_json(f, *(const int32_t *) p, flags);
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
                return json_integer(*(const uint32_t *) p);
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
                return json_integer(*(const int64_t *) p);
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64: {
                uint64_t v = *(const uint64_t *) p;
                if (v > INT64_MAX && (flags & PBJSON_U64_STRINGS)) {
                        char buf[24];
                        snprintf(buf, sizeof(buf), "%llu", (unsigned long long) v);
                        return json_string(buf);
                }
                return json_integer((json_int_t) v);
        }
        case PROTOBUF_C_TYPE_FLOAT:
                return json_real(*(const float *) p);
        case PROTOBUF_C_TYPE_DOUBLE:
                return json_real(*(const double *) p);
        case PROTOBUF_C_TYPE_STRING: {
                const char *s = *(char *const *) p;
                return json_string(s ? s : "");
        }
        case PROTOBUF_C_TYPE_BYTES:
                return bytes_json(p);
        case PROTOBUF_C_TYPE_MESSAGE: {
                const ProtobufCMessage *m = *(const ProtobufCMessage *const *) p;
                json_t *o = NULL;
                if (!m)
                        return json_null();
                return pbjson_message(m, flags, &o) < 0 ? NULL : o;
        }
        }
        return json_null();
}

static size_t value_size(const ProtobufCFieldDescriptor *f) {
        switch (f->type) {
        case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
        case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: return 8;
        case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
        case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
        case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
        default: return 4;
        }
}

/* Whether a singular field holds a value to show. */
static bool present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
        const char *base = (const char *) m;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
                return *(const uint32_t *) (base + f->quantifier_offset) == f->id;
        if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
            f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
                return *(const protobuf_c_boolean *) (base + f->quantifier_offset);
        if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type == PROTOBUF_C_TYPE_MESSAGE)
                return *(void *const *) (base + f->offset) != NULL;
        return true;
}

int pbjson_message(const ProtobufCMessage *m, unsigned flags, json_t **ret) {
        const ProtobufCMessageDescriptor *d = m->descriptor;
        const char *base = (const char *) m;
        _cleanup_json_ json_t *o = json_object();
        if (!o)
                return -ENOMEM;
        for (unsigned i = 0; i < d->n_fields; i++) {
                const ProtobufCFieldDescriptor *f = &d->fields[i];
                json_t *v;
                if (f->label == PROTOBUF_C_LABEL_REPEATED) {
                        size_t n = *(const size_t *) (base + f->quantifier_offset);
                        const char *arr = *(char *const *) (base + f->offset);
                        v = json_array();
                        for (size_t j = 0; v && j < n; j++)
                                if (json_array_append_new(v, value_json(f, arr + j * value_size(f), flags)) < 0) {
                                        json_decref(v);
                                        v = NULL;
                                }
                } else if (!present(m, f))
                        continue;
                else
                        v = value_json(f, base + f->offset, flags);
                if (!v || json_object_set_new(o, f->name, v) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(o);
        return 0;
}
