#include "pbjson.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "json.h"

json_t *pbjson_base64(const uint8_t *data, size_t n, unsigned flags) {
        static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        /* Python's encodebytes: 57 input bytes (76 characters) per line. */
        size_t enc_len = 4 * ((n + 2) / 3), lines = (flags & PBJSON_BYTES_LINES) ? (n + 56) / 57 : 0;
        size_t out_len = enc_len + lines;
        _cleanup_free_ char *s = malloc(out_len + 1);
        char *o = s;
        if (!s)
                return NULL;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) data[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t) data[i + 1] << 8;
                if (i + 2 < n)
                        v |= data[i + 2];
                *o++ = tab[v >> 18 & 63];
                *o++ = tab[v >> 12 & 63];
                *o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
                *o++ = i + 2 < n ? tab[v & 63] : '=';
                if (lines && (i + 3 >= n || (i + 3) % 57 == 0))
                        *o++ = '\n';
        }
        *o = '\0';
        return json_stringn(s, out_len);
}

static json_t *enum_json(const ProtobufCFieldDescriptor *f, int32_t v, unsigned flags) {
        if (flags & PBJSON_ENUM_NAMES) {
                const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
                if (ev)
                        return json_string(ev->name);
        }
        return json_integer(v);
}

json_t *pbjson_value(const ProtobufCFieldDescriptor *f, const void *p, unsigned flags,
                     const struct pbjson_hooks *hooks) {
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
        {
                const ProtobufCBinaryData *b = p;
                return pbjson_base64(b->data, b->len, flags);
        }
        case PROTOBUF_C_TYPE_MESSAGE: {
                const ProtobufCMessage *m = *(const ProtobufCMessage *const *) p;
                json_t *o = NULL;
                if (!m)
                        return json_null();
                return pbjson_message_hooked(m, flags, hooks, &o) < 0 ? NULL : o;
        }
        }
        return json_null();
}

size_t pbjson_value_size(const ProtobufCFieldDescriptor *f) {
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

/* Whether a field holds a value to show. */
static bool present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, unsigned flags) {
        const char *base = (const char *) m;
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
                return !(flags & PBJSON_SET_ONLY) || *(const size_t *) (base + f->quantifier_offset) > 0;
        /* protobuf-c keeps an unset proto2 string as NULL or as the default's
         * own pointer. */
        if ((flags & PBJSON_SET_ONLY) && f->label == PROTOBUF_C_LABEL_OPTIONAL &&
            f->type == PROTOBUF_C_TYPE_STRING && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) {
                const char *v = *(char *const *) (base + f->offset);
                return v && v != (const char *) f->default_value;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
                return *(const uint32_t *) (base + f->quantifier_offset) == f->id;
        if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
            f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
                return *(const protobuf_c_boolean *) (base + f->quantifier_offset);
        if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type == PROTOBUF_C_TYPE_MESSAGE)
                return *(void *const *) (base + f->offset) != NULL;
        return true;
}

static json_t *repeated_json(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, unsigned flags,
                             const struct pbjson_hooks *hooks) {
        const char *base = (const char *) m;
        size_t n = *(const size_t *) (base + f->quantifier_offset);
        const char *arr = *(char *const *) (base + f->offset);
        _cleanup_json_ json_t *v = json_array();
        for (size_t j = 0; v && j < n; j++)
                if (json_array_append_new(v, pbjson_value(f, arr + j * pbjson_value_size(f), flags, hooks)) < 0)
                        return NULL;
        return TAKE_PTR(v);
}

int pbjson_message(const ProtobufCMessage *m, unsigned flags, json_t **ret) {
        return pbjson_message_hooked(m, flags, NULL, ret);
}

int pbjson_message_hooked(const ProtobufCMessage *m, unsigned flags, const struct pbjson_hooks *hooks,
                          json_t **ret) {
        const ProtobufCMessageDescriptor *d = m->descriptor;
        const char *base = (const char *) m;
        _cleanup_json_ json_t *o = json_object();
        if (!o)
                return -ENOMEM;
        for (unsigned i = 0; i < d->n_fields; i++) {
                const ProtobufCFieldDescriptor *f = &d->fields[i];
                json_t *v = NULL;
                if (!present(m, f, flags))
                        continue;
                if (hooks) {
                        int r = hooks->field(hooks, m, f, flags, &v);
                        if (r < 0)
                                return r;
                }
                if (!v)
                        v = f->label == PROTOBUF_C_LABEL_REPEATED ? repeated_json(m, f, flags, hooks)
                                                                  : pbjson_value(f, base + f->offset, flags, hooks);
                if (!v || json_object_set_new(o, f->name, v) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(o);
        return 0;
}
