/* store/containerd/render-task: `pids` and `metrics.json` from hand-built
 * Tasks.ListPids and Tasks.Metrics answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups_stats_v1_metrics.pb-c.h"
#include "cgroups_v2_stats_metrics.pb-c.h"
#include "cleanup.h"
#include "json.h"
#include "render.h"

/* An Any of `type_url` holding `msg` packed; free any.value.data. */
static Google__Protobuf__Any any_of(const ProtobufCMessage *msg, const char *type_url) {
        Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
        any.type_url = (char *) type_url;
        assert_int_equal(pb_msg_pack(msg, &any.value.data, &any.value.len), 0);
        return any;
}

static char *pids_text(rpc_process_info **procs, size_t n) {
        rpc_task_pids p = CONTAINERD__SERVICES__TASKS__V1__LIST_PIDS_RESPONSE__INIT;
        p.n_processes = n;
        p.processes = procs;
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(render_pids_text(&p, &text, &len), 0);
        assert_int_equal(len, strlen(text));
        return text;
}

/* A stopped task: ctr prints the header alone. */
static void test_pids_empty(void **state) {
        char *t = pids_text(NULL, 0);
        assert_string_equal(t, "PID    INFO\n");
        free(t);
}

/* The column is as wide as the longest pid plus 4, the exec'd process
 * shows runc's ProcessDetails as ctr prints it; other types their URL. */
static void test_pids_table(void **state) {
        Containerd__Runc__V1__ProcessDetails d = CONTAINERD__RUNC__V1__PROCESS_DETAILS__INIT;
        d.exec_id = "ex1";
        Google__Protobuf__Any details = any_of(&d.base, "containerd.runc.v1.ProcessDetails"),
                              other = GOOGLE__PROTOBUF__ANY__INIT;
        other.type_url = "example.com/Other";
        rpc_process_info a = CONTAINERD__V1__TYPES__PROCESS_INFO__INIT, b = a, c = a, e = a;
        a.pid = 7;
        b.pid = 123456;
        c.pid = 2977;
        c.info = &details;
        e.pid = 42;
        e.info = &other;
        rpc_process_info *procs[] = { &a, &b, &c, &e };
        char *t = pids_text(procs, 4);
        assert_string_equal(t, "PID       INFO\n"
                               "7         -\n"
                               "123456    -\n"
                               "2977      &ProcessDetails{ExecID:ex1,XXX_unrecognized:[],}\n"
                               "42        example.com/Other\n");
        free(t);
        free(details.value.data);
}

/* Renders metric `m` and parses it back. */
static json_t *metrics_of(const rpc_metric *m) {
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(render_metrics_text(m, &text, &len), 0);
        assert_int_equal(len, strlen(text));
        assert_true(len > 0 && text[len - 1] == '\n');
        json_t *j = json_loads(text, 0, NULL);
        free(text);
        assert_non_null(j);
        return j;
}

static json_int_t int_at(json_t *j, const char *a, const char *b, const char *c) {
        json_t *v = json_object_get(json_object_get(json_object_get(j, a), b), c);
        assert_true(json_is_integer(v));
        return json_integer_value(v);
}

static void test_metrics_v1(void **state) {
        Io__Containerd__Cgroups__V1__MemoryEntry usage = IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
        usage.usage = 9240576;
        usage.limit = 9223372036854771712u;
        Io__Containerd__Cgroups__V1__MemoryStat mem = IO__CONTAINERD__CGROUPS__V1__MEMORY_STAT__INIT;
        mem.usage = &usage;
        mem.total_cache = 4096;
        Io__Containerd__Cgroups__V1__PidsStat pids = IO__CONTAINERD__CGROUPS__V1__PIDS_STAT__INIT;
        pids.current = 4;
        Io__Containerd__Cgroups__V1__Metrics v1 = IO__CONTAINERD__CGROUPS__V1__METRICS__INIT;
        v1.memory = &mem;
        v1.pids = &pids;
        Google__Protobuf__Any any = any_of(&v1.base, "io.containerd.cgroups.v1.Metrics");
        Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
        ts.seconds = 1764683520;
        ts.nanos = 5;
        rpc_metric m = CONTAINERD__TYPES__METRIC__INIT;
        m.id = "web";
        m.timestamp = &ts;
        m.data = &any;

        json_t *j = metrics_of(&m);
        assert_string_equal(json_string_value(json_object_get(j, "id")), "web");
        assert_string_equal(json_string_value(json_object_get(j, "timestamp")), "2025-12-02T13:52:00.000000005Z");
        assert_string_equal(json_string_value(json_object_get(j, "type")), "io.containerd.cgroups.v1.Metrics");
        assert_int_equal(int_at(j, "metrics", "memory", "total_cache"), 4096);
        json_t *u = json_object_get(json_object_get(json_object_get(j, "metrics"), "memory"), "usage");
        assert_int_equal(json_integer_value(json_object_get(u, "usage")), 9240576);
        assert_int_equal(json_integer_value(json_object_get(u, "limit")), 9223372036854771712);
        assert_int_equal(int_at(j, "metrics", "pids", "current"), 4);
        assert_true(json_is_null(json_object_get(json_object_get(j, "metrics"), "cpu")));
        assert_null(json_object_get(j, "data_base64"));
        /* The keys in this order: id, timestamp, type, metrics. */
        const char *want[] = { "id", "timestamp", "type", "metrics" };
        size_t i = 0;
        for (void *it = json_object_iter(j); it; it = json_object_iter_next(j, it), i++)
                assert_string_equal(json_object_iter_key(it), want[i]);
        assert_int_equal(i, 4);
        json_decref(j);
        free(any.value.data);
}

/* cgroup v2 says "max" with UINT64_MAX: a string, as jansson's integers
 * stop at INT64_MAX. A host prefix on the type URL is fine. */
static void test_metrics_v2(void **state) {
        Io__Containerd__Cgroups__V2__MemoryStat mem = IO__CONTAINERD__CGROUPS__V2__MEMORY_STAT__INIT;
        mem.usage = 1048576;
        mem.usage_limit = UINT64_MAX;
        Io__Containerd__Cgroups__V2__Metrics v2 = IO__CONTAINERD__CGROUPS__V2__METRICS__INIT;
        v2.memory = &mem;
        Google__Protobuf__Any any = any_of(&v2.base, "type.googleapis.com/io.containerd.cgroups.v2.Metrics");
        rpc_metric m = CONTAINERD__TYPES__METRIC__INIT;
        m.id = "web";
        m.data = &any;

        json_t *j = metrics_of(&m);
        assert_true(json_is_null(json_object_get(j, "timestamp")));
        assert_int_equal(int_at(j, "metrics", "memory", "usage"), 1048576);
        json_t *lim = json_object_get(json_object_get(json_object_get(j, "metrics"), "memory"), "usage_limit");
        assert_string_equal(json_string_value(lim), "18446744073709551615");
        json_decref(j);
        free(any.value.data);
}

/* A type it does not know, and bytes that do not decode: the raw bytes. */
static void test_metrics_unknown(void **state) {
        static const struct { const char *url, *bytes, *b64; } cases[] = {
                { "example.com/windows.Statistics", "abc", "YWJj" },
                { "io.containerd.cgroups.v1.Metrics", "\xff\xff", "//8=" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
                any.type_url = (char *) cases[i].url;
                any.value = (ProtobufCBinaryData) { .len = strlen(cases[i].bytes), .data = (uint8_t *) cases[i].bytes };
                rpc_metric m = CONTAINERD__TYPES__METRIC__INIT;
                m.id = "web";
                m.data = &any;
                json_t *j = metrics_of(&m);
                assert_string_equal(json_string_value(json_object_get(j, "type")), cases[i].url);
                assert_true(json_is_null(json_object_get(j, "metrics")));
                assert_string_equal(json_string_value(json_object_get(j, "data_base64")), cases[i].b64);
                json_decref(j);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pids_empty),
                cmocka_unit_test(test_pids_table),
                cmocka_unit_test(test_metrics_v1),
                cmocka_unit_test(test_metrics_v2),
                cmocka_unit_test(test_metrics_unknown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
