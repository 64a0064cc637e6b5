/* store/core/pbjson: protobuf-c messages of the generated containerd API as
 * JSON, through their descriptors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "api_types_descriptor.pb-c.h"
#include "api_types_task_task.pb-c.h"
#include "google_any.pb-c.h"
#include "json.h"
#include "pbjson.h"

static char *text_of(const ProtobufCMessage *m, unsigned flags) {
        json_t *j = NULL;
        assert_int_equal(pbjson_message(m, flags, &j), 0);
        char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(j);
        assert_non_null(s);
        return s;
}

static void test_scalars_enum_nested(void **state) {
        (void) state;
        Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
        ts.seconds = 1764683520;
        ts.nanos = 5;
        Containerd__V1__Types__Process p = CONTAINERD__V1__TYPES__PROCESS__INIT;
        p.container_id = "web";
        p.pid = 42;
        p.status = CONTAINERD__V1__TYPES__STATUS__PAUSED;
        p.terminal = 1;
        p.exit_status = 4294967295u;
        char *s = text_of(&p.base, 0);
        assert_string_equal(s, "{\"container_id\":\"web\",\"exit_status\":4294967295,\"exited_at\":null,\"id\":\"\","
                               "\"pid\":42,\"status\":4,\"stderr\":\"\",\"stdin\":\"\",\"stdout\":\"\",\"terminal\":true}");
        free(s);
        p.exited_at = &ts;
        s = text_of(&p.base, PBJSON_ENUM_NAMES);
        assert_non_null(strstr(s, "\"status\":\"PAUSED\""));
        assert_non_null(strstr(s, "\"exited_at\":{\"nanos\":5,\"seconds\":1764683520}"));
        free(s);
}

static void test_repeated_messages(void **state) {
        (void) state;
        Containerd__Types__Descriptor__AnnotationsEntry a = CONTAINERD__TYPES__DESCRIPTOR__ANNOTATIONS_ENTRY__INIT,
                                                        b = CONTAINERD__TYPES__DESCRIPTOR__ANNOTATIONS_ENTRY__INIT;
        a.key = "k1";
        a.value = "v1";
        b.key = "k2";
        Containerd__Types__Descriptor__AnnotationsEntry *anns[] = { &a, &b };
        Containerd__Types__Descriptor d = CONTAINERD__TYPES__DESCRIPTOR__INIT;
        d.media_type = "application/vnd.oci.image.index.v1+json";
        d.size = -1;
        d.n_annotations = 2;
        d.annotations = anns;
        char *s = text_of(&d.base, 0);
        assert_string_equal(s, "{\"annotations\":[{\"key\":\"k1\",\"value\":\"v1\"},{\"key\":\"k2\",\"value\":\"\"}],"
                               "\"digest\":\"\",\"media_type\":\"application/vnd.oci.image.index.v1+json\",\"size\":-1}");
        free(s);
        d.n_annotations = 0;
        s = text_of(&d.base, 0);
        assert_non_null(strstr(s, "\"annotations\":[]"));
        free(s);
}

static void test_bytes_base64(void **state) {
        (void) state;
        static const struct { const char *in, *out; } cases[] = {
                { "", "" }, { "a", "YQ==" }, { "ab", "YWI=" }, { "abc", "YWJj" }, { "\xff\x00\x80x", "/wCAeA==" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
                any.type_url = "t";
                any.value.data = (uint8_t *) cases[i].in;
                any.value.len = i == 4 ? 4 : strlen(cases[i].in);
                json_t *j = NULL;
                assert_int_equal(pbjson_message(&any.base, 0, &j), 0);
                assert_string_equal(json_string_value(json_object_get(j, "value")), cases[i].out);
                assert_string_equal(json_string_value(json_object_get(j, "type_url")), "t");
                json_decref(j);
        }
}

static void test_base64_lines(void **state) {
        (void) state;
        uint8_t data[60];
        memset(data, 'a', sizeof(data));
        json_t *j = pbjson_base64(data, 3, PBJSON_BYTES_LINES);
        assert_string_equal(json_string_value(j), "YWFh\n");
        json_decref(j);
        /* Python's encodebytes: 57 bytes (76 characters) per line. */
        j = pbjson_base64(data, 60, PBJSON_BYTES_LINES);
        const char *s = json_string_value(j);
        assert_int_equal(strlen(s), 76 + 1 + 4 + 1);
        assert_int_equal(s[76], '\n');
        assert_string_equal(s + 77, "YWFh\n");
        json_decref(j);
        j = pbjson_base64(data, 0, PBJSON_BYTES_LINES);
        assert_string_equal(json_string_value(j), "");
        json_decref(j);
}

static int pid_as_text(const struct pbjson_hooks *hooks, const ProtobufCMessage *m,
                       const ProtobufCFieldDescriptor *f, unsigned flags, json_t **ret_value) {
        (void) m;
        (void) flags;
        if (strcmp(f->name, "pid"))
                return 0;
        *ret_value = json_string(hooks->userdata);
        return 1;
}

static void test_hooks_and_set_only(void **state) {
        (void) state;
        Containerd__V1__Types__Process p = CONTAINERD__V1__TYPES__PROCESS__INIT;
        p.pid = 42;
        struct pbjson_hooks hooks = { pid_as_text, "forty-two" };
        json_t *j = NULL;
        assert_int_equal(pbjson_message_hooked(&p.base, 0, &hooks, &j), 0);
        assert_string_equal(json_string_value(json_object_get(j, "pid")), "forty-two");
        assert_non_null(json_object_get(j, "stdin"));
        json_decref(j);
        /* Empty repeated fields are left out with PBJSON_SET_ONLY. */
        Containerd__Types__Descriptor d = CONTAINERD__TYPES__DESCRIPTOR__INIT;
        assert_int_equal(pbjson_message(&d.base, PBJSON_SET_ONLY, &j), 0);
        assert_null(json_object_get(j, "annotations"));
        json_decref(j);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scalars_enum_nested),
                cmocka_unit_test(test_repeated_messages),
                cmocka_unit_test(test_bytes_base64),
                cmocka_unit_test(test_base64_lines),
                cmocka_unit_test(test_hooks_and_set_only),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
