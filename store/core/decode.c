/* Checkpoint protobuf blobs -> JSON, driven by the generated descriptors so
 * that new fields of the runc options show up without code here. */
#include "decode.h"

#include <errno.h>
#include <jansson.h>

#include "json.h"
#include <stdlib.h>
#include <string.h>

#include "vocab.h"
#include "cleanup.h"
#include "google_any.pb-c.h"
#include "pbjson.h"
#include "pbmsg.h"
#include "runtime_v2_runc_options_oci.pb-c.h"


/* An Any's value decoded as `desc`, or `buf` itself when it is not an Any
 * of that type. Returns a JSON object with "typeUrl" when wrapped. */
static int options_json(const uint8_t *buf, size_t len, const ProtobufCMessageDescriptor *desc, json_t **ret) {
        _cleanup_json_ json_t *o = json_object();
        if (!o)
                return -ENOMEM;
        _cleanup_pb_msg_ Google__Protobuf__Any *any = NULL;
        const uint8_t *inner = buf;
        size_t inner_len = len;
        if (pb_msg_unpack(&google__protobuf__any__descriptor, buf, len, (ProtobufCMessage **) &any) == 0 &&
            any->type_url && *any->type_url) {
                if (!pb_any_is(any, desc))
                        return -EBADMSG;
                if (json_object_set_new(o, "typeUrl", json_string(any->type_url)) < 0)
                        return -ENOMEM;
                inner = any->value.data;
                inner_len = any->value.len;
        }
        _cleanup_pb_msg_ ProtobufCMessage *m = NULL;
        int r = pb_msg_unpack(desc, inner, inner_len, &m);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *fields = NULL;
        r = pbjson_message(m, 0, &fields);
        if (r < 0)
                return r;
        if (json_object_update(o, fields) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(o);
        return 0;
}

static int dump(json_t *o, char **ret_json, size_t *ret_len) {
        return json_dump_text(o, JSON_INDENT(2) | JSON_SORT_KEYS, ret_json, ret_len);
}

static int config_spec(const uint8_t *buf, size_t len, Google__Protobuf__Any **ret_any, json_t **ret_spec) {
        Google__Protobuf__Any *any = NULL;
        int r = pb_msg_unpack(&google__protobuf__any__descriptor, buf, len, (ProtobufCMessage **) &any);
        if (r < 0)
                return r;
        json_t *spec = json_loadb((const char *) any->value.data, any->value.len, 0, NULL);
        if (!spec || !any->type_url) {
                json_decref(spec);
                pb_msg_free(any);
                return -EBADMSG;
        }
        *ret_any = any;
        *ret_spec = spec;
        return 0;
}

/* The string annotation `key` of an index, or JSON null. */
static json_t *annotation(json_t *index, const char *key) {
        const char *v = json_string_value(json_object_get(json_object_get(index, "annotations"), key));
        return v ? json_string(v) : json_null();
}

int store_decode_config(const store_config_parts *p, char **ret_json, size_t *ret_len) {
        _cleanup_pb_msg_ Google__Protobuf__Any *any = NULL;
        json_t *spec = NULL;
        int r = config_spec(p->config, p->config_len, &any, &spec);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *o = json_pack("{s:o}", "spec", spec);
        if (!o)
                return -ENOMEM;
        _cleanup_json_ json_t *index = NULL;
        if (p->index)
                index = json_loadb((const char *) p->index, p->index_len, 0, NULL);
        if (p->index && !json_is_object(index))
                return -EBADMSG;
        json_t *options = NULL;
        /* Another runtime's options are not runc's: nothing to show. */
        if (p->runtime_options &&
            (r = options_json(p->runtime_options, p->runtime_options_len, &containerd__runc__v1__options__descriptor,
                              &options)) < 0 && r != -EBADMSG)
                return r;
        json_t *runtime = json_pack("{s:o,s:o}", "name", annotation(index, ANN_RUNTIME), "options",
                                    options ? options : json_null());
        if (!runtime || json_object_set_new(o, "runtime", runtime) < 0 ||
            json_object_set_new(o, "id", p->id ? json_string(p->id) : json_null()) < 0 ||
            json_object_set_new(o, "image", annotation(index, ANN_IMAGE_NAME)) < 0 ||
            json_object_set_new(o, "snapshotter", annotation(index, ANN_SNAPSHOTTER)) < 0)
                return -ENOMEM;
        return dump(o, ret_json, ret_len);
}

int store_decode_config_container(const uint8_t *buf, size_t len, char **ret_id) {
        _cleanup_pb_msg_ Google__Protobuf__Any *any = NULL;
        _cleanup_json_ json_t *spec = NULL;
        int r = config_spec(buf, len, &any, &spec);
        if (r < 0)
                return r;
        const char *cg = json_string_value(json_object_get(json_object_get(spec, "linux"), "cgroupsPath"));
        if (!cg || !*cg)
                return -ENOENT;
        /* "/ns/id" (cgroupfs) or "slice:prefix:id" (systemd). */
        const char *sep = strchr(cg, ':') ? strrchr(cg, ':') : strrchr(cg, '/');
        const char *id = sep ? sep + 1 : cg;
        if (!*id)
                return -ENOENT;
        char *s = strdup(id);
        if (!s)
                return -ENOMEM;
        *ret_id = s;
        return 0;
}

int store_decode_config_spec(const uint8_t *buf, size_t len, uint8_t **ret, size_t *ret_len) {
        _cleanup_pb_msg_ Google__Protobuf__Any *any = NULL;
        _cleanup_json_ json_t *spec = NULL;
        int r = config_spec(buf, len, &any, &spec);
        if (r < 0)
                return r;
        uint8_t *copy = malloc(any->value.len + 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, any->value.data, any->value.len);
        copy[any->value.len] = '\0';
        *ret = copy;
        *ret_len = any->value.len;
        return 0;
}

int store_decode_options(const uint8_t *ckpt, size_t ckpt_len, const uint8_t *runtime, size_t runtime_len,
                         char **ret_json, size_t *ret_len) {
        _cleanup_json_ json_t *o = json_object();
        if (!o)
                return -ENOMEM;
        json_t *c = NULL, *rt = NULL;
        int r;
        if (ckpt && (r = options_json(ckpt, ckpt_len, &containerd__runc__v1__checkpoint_options__descriptor, &c)) < 0)
                return r;
        if (json_object_set_new(o, "checkpoint", c ? c : json_null()) < 0)
                return -ENOMEM;
        if (runtime && (r = options_json(runtime, runtime_len, &containerd__runc__v1__options__descriptor, &rt)) < 0)
                return r;
        if (json_object_set_new(o, "runtime", rt ? rt : json_null()) < 0)
                return -ENOMEM;
        return dump(o, ret_json, ret_len);
}
