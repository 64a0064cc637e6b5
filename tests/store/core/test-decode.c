/* store/decode: checkpoint protobuf blobs -> JSON. Messages are built with
 * the generated protobuf-c code, the output is checked with jansson. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "vocab.h"
#include "decode.h"
#include "google_any.pb-c.h"
#include "runtime_v2_runc_options_oci.pb-c.h"

static uint8_t *pack(const ProtobufCMessage *m, size_t *len) {
        *len = protobuf_c_message_get_packed_size(m);
        uint8_t *buf = malloc(*len ? *len : 1);
        assert_non_null(buf);
        assert_int_equal(protobuf_c_message_pack(m, buf), *len);
        return buf;
}

static uint8_t *any(const char *type_url, const uint8_t *value, size_t vlen, size_t *len) {
        Google__Protobuf__Any a = GOOGLE__PROTOBUF__ANY__INIT;
        a.type_url = (char *) type_url;
        a.value.data = (uint8_t *) value;
        a.value.len = vlen;
        return pack(&a.base, len);
}

static json_t *parse(const char *s, size_t len) {
        assert_true(len > 0 && s[len - 1] == '\n');
        json_t *j = json_loadb(s, len, 0, NULL);
        assert_non_null(j);
        return j;
}

static void test_config(void **state) {
        const char *spec = "{\"ociVersion\":\"1.0.2\",\"linux\":{\"cgroupsPath\":\"/myns/web-1\"}}";
        size_t len;
        uint8_t *blob = any("types.containerd.io/opencontainers/runtime-spec/1/Spec", (const uint8_t *) spec,
                            strlen(spec), &len);
        /* The index as containerd's client writes it, and the container's
         * runtime options (an Any of the runc options). */
        const char *index = "{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{"
                            "\"io.containerd.checkpoint.runtime\":\"io.containerd.runc.v2\","
                            "\"io.containerd.checkpoint.snapshotter\":\"overlayfs\","
                            "\"org.opencontainers.image.ref.name\":\"docker.io/library/busybox:latest\"}}\n";
        Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
        ro.binary_name = "runc";
        size_t rlen, alen;
        uint8_t *rbytes = pack(&ro.base, &rlen);
        uint8_t *rblob = any("containerd.runc.v1.Options", rbytes, rlen, &alen);
        store_config_parts p = { .id = "web-1", .config = blob, .config_len = len, .index = (const uint8_t *) index,
                                 .index_len = strlen(index), .runtime_options = rblob, .runtime_options_len = alen };
        char *out;
        size_t out_len;
        assert_int_equal(store_decode_config(&p, &out, &out_len), 0);
        json_t *j = parse(out, out_len);
        assert_int_equal(json_object_size(j), 5);
        assert_string_equal(json_string_value(json_object_get(j, "id")), "web-1");
        assert_string_equal(json_string_value(json_object_get(j, "image")), "docker.io/library/busybox:latest");
        assert_string_equal(json_string_value(json_object_get(j, "snapshotter")), "overlayfs");
        json_t *rt = json_object_get(j, "runtime");
        assert_string_equal(json_string_value(json_object_get(rt, "name")), "io.containerd.runc.v2");
        assert_string_equal(json_string_value(json_object_get(json_object_get(rt, "options"), "typeUrl")),
                            "containerd.runc.v1.Options");
        assert_string_equal(json_string_value(json_object_get(json_object_get(rt, "options"), "binary_name")), "runc");
        assert_string_equal(json_string_value(json_object_get(json_object_get(j, "spec"), "ociVersion")), "1.0.2");
        json_decref(j);
        free(out);

        /* Only the config blob: what the others would tell is null. */
        p = (store_config_parts) { .config = blob, .config_len = len };
        assert_int_equal(store_decode_config(&p, &out, &out_len), 0);
        j = parse(out, out_len);
        assert_int_equal(json_object_size(j), 5);
        assert_true(json_is_null(json_object_get(j, "id")));
        assert_true(json_is_null(json_object_get(j, "image")));
        assert_true(json_is_null(json_object_get(j, "snapshotter")));
        assert_true(json_is_null(json_object_get(json_object_get(j, "runtime"), "name")));
        assert_true(json_is_null(json_object_get(json_object_get(j, "runtime"), "options")));
        json_decref(j);
        free(out);

        /* Another runtime's options: null, the rest stays. */
        uint8_t *other = any("example.com/other.Options", rbytes, rlen, &alen);
        p = (store_config_parts) { .config = blob, .config_len = len, .runtime_options = other,
                                   .runtime_options_len = alen };
        assert_int_equal(store_decode_config(&p, &out, &out_len), 0);
        j = parse(out, out_len);
        assert_true(json_is_null(json_object_get(json_object_get(j, "runtime"), "options")));
        json_decref(j);
        free(out);
        free(other);

        /* An index that is not JSON. */
        p = (store_config_parts) { .config = blob, .config_len = len, .index = (const uint8_t *) "{x", .index_len = 2 };
        assert_int_equal(store_decode_config(&p, &out, &out_len), -EBADMSG);
        free(rblob);
        free(rbytes);

        char *id;
        assert_int_equal(store_decode_config_container(blob, len, &id), 0);
        assert_string_equal(id, "web-1");
        free(id);
        free(blob);

        /* systemd cgroups: slice:prefix:id */
        spec = "{\"linux\":{\"cgroupsPath\":\"system.slice:ctr:abc\"}}";
        blob = any("x/Spec", (const uint8_t *) spec, strlen(spec), &len);
        assert_int_equal(store_decode_config_container(blob, len, &id), 0);
        assert_string_equal(id, "abc");
        free(id);
        free(blob);

        /* No cgroupsPath: no container. */
        spec = "{\"linux\":{}}";
        blob = any("x/Spec", (const uint8_t *) spec, strlen(spec), &len);
        assert_int_equal(store_decode_config_container(blob, len, &id), -ENOENT);
        free(blob);

        /* Not JSON inside. */
        blob = any("x/Spec", (const uint8_t *) "{nope", 5, &len);
        p = (store_config_parts) { .config = blob, .config_len = len };
        assert_int_equal(store_decode_config(&p, &out, &out_len), -EBADMSG);
        free(blob);
        /* Not a message at all. */
        p = (store_config_parts) { .config = (const uint8_t *) "\xff\xff\xff", .config_len = 3 };
        assert_int_equal(store_decode_config(&p, &out, &out_len), -EBADMSG);
}

static void test_options(void **state) {
        Containerd__Runc__V1__CheckpointOptions co = CONTAINERD__RUNC__V1__CHECKPOINT_OPTIONS__INIT;
        co.exit = 1;
        co.image_path = "/var/tmp/img";
        char *ns[] = { "network", "ipc" };
        co.n_empty_namespaces = 2;
        co.empty_namespaces = ns;
        size_t clen, alen;
        uint8_t *cbytes = pack(&co.base, &clen);
        /* containerd writes type URLs without a host part. */
        uint8_t *ablob = any("containerd.runc.v1.CheckpointOptions", cbytes, clen, &alen);

        Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
        ro.binary_name = "runc";
        ro.io_uid = 1000;
        ro.systemd_cgroup = 1;
        size_t rlen;
        uint8_t *rblob = pack(&ro.base, &rlen);

        char *out;
        size_t out_len;
        assert_int_equal(store_decode_options(ablob, alen, rblob, rlen, &out, &out_len), 0);
        json_t *j = parse(out, out_len);
        json_t *c = json_object_get(j, "checkpoint"), *r = json_object_get(j, "runtime");
        assert_string_equal(json_string_value(json_object_get(c, "typeUrl")), "containerd.runc.v1.CheckpointOptions");
        assert_true(json_is_true(json_object_get(c, "exit")));
        assert_true(json_is_false(json_object_get(c, "open_tcp")));
        assert_string_equal(json_string_value(json_object_get(c, "image_path")), "/var/tmp/img");
        assert_int_equal(json_array_size(json_object_get(c, "empty_namespaces")), 2);
        assert_string_equal(json_string_value(json_array_get(json_object_get(c, "empty_namespaces"), 1)), "ipc");
        assert_null(json_object_get(r, "typeUrl"));
        assert_string_equal(json_string_value(json_object_get(r, "binary_name")), "runc");
        assert_int_equal(json_integer_value(json_object_get(r, "io_uid")), 1000);
        assert_true(json_is_true(json_object_get(r, "systemd_cgroup")));
        json_decref(j);
        free(out);

        /* Runtime options absent: null. */
        assert_int_equal(store_decode_options(ablob, alen, NULL, 0, &out, &out_len), 0);
        j = parse(out, out_len);
        assert_true(json_is_null(json_object_get(j, "runtime")));
        json_decref(j);
        free(out);

        /* An Any of another type is refused. */
        uint8_t *other = any("containerd.runc.v1.Options", cbytes, clen, &alen);
        assert_int_equal(store_decode_options(other, alen, NULL, 0, &out, &out_len), -EBADMSG);
        free(other);
        free(ablob);
        free(cbytes);
        free(rblob);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_config),
                cmocka_unit_test(test_options),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
