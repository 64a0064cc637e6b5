/* Live tests of the rpc layer against a real containerd, with `ctr` as the
 * peer: what the client returns must equal what ctr says.
 *
 * Environment (run-live.sh sets it from scripts/testenv.sh):
 *   CKPTFS_TEST_ADDR   socket of the containerd of the main group
 *   CKPTFS_TEST_NS     its namespace (the test image is imported there)
 *   CKPTFS_TEST_IMAGE  the image name
 *   CKPTFS_TEST_DIR    the env dir (container ids are recorded in DIR/ids)
 *   CKPTFS_TEST_FAULT_* a second containerd the fault group may stop, kill
 *                      and restart (see live-fault.c); without it the fault
 *                      group fails.
 *
 * Every blocking step has a bound: calls have deadlines, ctr runs under
 * timeout(1), event streams have a watchdog that cancels them, and each
 * test arms alarm(2) as a last resort. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "containerd.h"
#include "live-tests.h"
#include "live-util.h"

live_env L;

/* ------------------------------------------------------------ fixtures */

static void on_alarm(int sig) {
        (void) sig;
        static const char msg[] = "test-rpc-live: a test hung (alarm); giving up\n";
        ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
        (void) n;
        _exit(99);
}

int live_arm(void **state) {
        (void) state;
        signal(SIGALRM, on_alarm);
        alarm(240);
        return 0;
}

int live_disarm(void **state) {
        (void) state;
        alarm(0);
        return 0;
}

static void record_id(const char *id) {
        /* testenv's teardown also cleans what a crashed test left behind. */
        if (!L.dir)
                return;
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/ids", L.dir) < 0)
                return;
        FILE *f = fopen(path, "ae");
        if (f) {
                fprintf(f, "%s %s\n", L.ns, id);
                fclose(f);
        }
}

int ctr(char **ret_out, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = vctr_capture(L.addr, L.ns, ret_out, fmt, ap);
        va_end(ap);
        return r;
}

/* STATUS column of `ctr task ls` for id, "" without a task. Caller frees. */
static char *ctr_task_status(const char *id) {
        _cleanup_free_ char *out = NULL;
        if (ctr(&out, "tasks ls") != 0)
                return NULL;
        char *save = NULL;
        for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char tid[256], st[64];
                long pid;
                if (sscanf(line, "%255s %ld %63s", tid, &pid, st) == 3 && strcmp(tid, id) == 0)
                        return strdup(st);
        }
        return strdup("");
}

static int wait_task_status(const char *id, const char *want, int64_t timeout_ms) {
        int64_t end = now_ms() + timeout_ms;
        for (;;) {
                _cleanup_free_ char *st = ctr_task_status(id);
                if (st && strcmp(st, want) == 0)
                        return 0;
                if (now_ms() > end)
                        return -ETIMEDOUT;
                usleep(100 * 1000);
        }
}

static int group_setup(void **state) {
        (void) state;
        L.addr = getenv("CKPTFS_TEST_ADDR");
        L.ns = getenv("CKPTFS_TEST_NS");
        L.image = getenv("CKPTFS_TEST_IMAGE");
        L.dir = getenv("CKPTFS_TEST_DIR");
        if (!L.addr || !L.ns || !L.image) {
                fprintf(stderr, "CKPTFS_TEST_ADDR, CKPTFS_TEST_NS and CKPTFS_TEST_IMAGE must be set "
                                "(tests/rpc/client/run-live.sh does it)\n");
                return -1;
        }
        uint32_t rnd;
        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                return -1;
        L.seed = ((uint64_t) rnd << 32) ^ (uint64_t) time(NULL) ^ (uint64_t) getpid();
        snprintf(L.prefix, sizeof(L.prefix), "rpcl-%08x", rnd);
        snprintf(L.id_run, sizeof(L.id_run), "%s-run", L.prefix);
        snprintf(L.id_paused, sizeof(L.id_paused), "%s-paused", L.prefix);
        snprintf(L.id_stopped, sizeof(L.id_stopped), "%s-stopped", L.prefix);
        snprintf(L.id_notask, sizeof(L.id_notask), "%s-notask", L.prefix);

        if (rpc_client_new(L.addr, 10000, &L.c) < 0)
                return -1;

        /* Containers in every state ctr can show: RUNNING, PAUSED, STOPPED
         * (exit status 3), and one without a task (with labels). */
        const char *ids[] = { L.id_run, L.id_paused, L.id_stopped, L.id_notask };
        for (size_t i = 0; i < 4; i++)
                record_id(ids[i]);
        if (ctr(NULL, "run -d --null-io %s %s memhog 1 /tmp/count >/dev/null", L.image, L.id_run) != 0 ||
            ctr(NULL, "run -d --null-io %s %s sleep 100000 >/dev/null", L.image, L.id_paused) != 0 ||
            ctr(NULL, "tasks pause %s", L.id_paused) != 0 ||
            ctr(NULL, "run -d --null-io %s %s sh -c 'exit 3' >/dev/null", L.image, L.id_stopped) != 0 ||
            ctr(NULL, "containers create --label ckptfstest=%s --label x.y/z=v %s %s", L.prefix, L.image,
                L.id_notask) != 0) {
                fprintf(stderr, "creating the test containers with ctr failed\n");
                return -1;
        }
        if (wait_task_status(L.id_stopped, "STOPPED", 20000) < 0 ||
            wait_task_status(L.id_paused, "PAUSED", 20000) < 0 ||
            wait_task_status(L.id_run, "RUNNING", 20000) < 0) {
                fprintf(stderr, "the test tasks did not reach their states\n");
                return -1;
        }
        return 0;
}

static int group_teardown(void **state) {
        (void) state;
        /* Best effort: testenv's teardown removes whatever is left. */
        if (L.addr && L.ns) {
                ctr(NULL, "tasks resume %s >/dev/null 2>&1", L.id_paused);
                const char *tasks[] = { L.id_run, L.id_paused, L.id_stopped };
                for (size_t i = 0; i < 3; i++)
                        ctr(NULL, "tasks kill -s SIGKILL %s >/dev/null 2>&1", tasks[i]);
                for (size_t i = 0; i < 3; i++) {
                        wait_task_status(tasks[i], "STOPPED", 10000);
                        ctr(NULL, "tasks rm -f %s >/dev/null 2>&1", tasks[i]);
                }
                const char *all[] = { L.id_run, L.id_paused, L.id_stopped, L.id_notask };
                for (size_t i = 0; i < 4; i++)
                        ctr(NULL, "containers rm %s >/dev/null 2>&1", all[i]);
                if (L.blob_written)
                        ctr(NULL, "content rm %s >/dev/null 2>&1", L.blob_digest);
        }
        rpc_client_free(L.c);
        L.c = NULL;
        free(L.blob);
        L.blob = NULL;
        return 0;
}

rpc_opts opts(void) {
        return (rpc_opts) { .ns = L.ns, .timeout_ms = 30000 };
}

/* ------------------------------------------------------------ version, namespaces */

/* The value of "KEY:" in the "Server:" section of `ctr version`. */
static char *server_field(const char *out, const char *key) {
        const char *s = strstr(out, "\nServer:");
        if (!s)
                return NULL;
        const char *k = strstr(s, key);
        if (!k)
                return NULL;
        k += strlen(key);
        while (*k == ' ' || *k == '\t')
                k++;
        return strndup(k, strcspn(k, "\n"));
}

static void test_version(void **state) {
        (void) state;
        _cleanup_free_ char *out = NULL;
        assert_int_equal(ctr(&out, "version"), 0);
        _cleanup_free_ char *want_version = server_field(out, "Version:");
        _cleanup_free_ char *want_revision = server_field(out, "Revision:");
        assert_non_null(want_version);
        assert_non_null(want_revision);

        rpc_error err = { 0 };
        rpc_opts o = opts();
        _cleanup_pb_msg_ rpc_version *v = NULL;
        assert_int_equal(rpc_version_get(L.c, &o, &v, &err), 0);
        assert_non_null(v);
        assert_true(v->version[0] != '\0');
        assert_string_equal(v->version, want_version);
        assert_string_equal(v->revision, want_revision);
}

static void test_namespaces(void **state) {
        (void) state;
        _cleanup_free_ char *out = NULL;
        assert_int_equal(ctr(&out, "namespaces ls -q"), 0);
        _cleanup_(strv_freep) char **want = NULL;
        size_t n_want = 0;
        assert_int_equal(lines_sorted(out, &want, &n_want), 0);

        rpc_error err = { 0 };
        rpc_opts o = opts();
        _cleanup_pb_msg_ rpc_namespace_list *l = NULL;
        assert_int_equal(rpc_namespaces_list(L.c, &o, &l, &err), 0);
        assert_int_equal(l->n_namespaces, n_want);
        const char *got[l->n_namespaces + 1];
        bool found = false;
        for (size_t i = 0; i < l->n_namespaces; i++) {
                got[i] = l->namespaces[i]->name;
                found |= strcmp(got[i], L.ns) == 0;
        }
        qsort(got, l->n_namespaces, sizeof(char *), strv_cmp);
        for (size_t i = 0; i < n_want; i++)
                assert_string_equal(got[i], want[i]);
        assert_true(found);
}

/* ------------------------------------------------------------ containers */

static void assert_ids_equal_ctr(rpc_container_list *l, const char *ctr_args) {
        _cleanup_free_ char *out = NULL;
        assert_int_equal(ctr(&out, "containers ls -q %s", ctr_args), 0);
        _cleanup_(strv_freep) char **want = NULL;
        size_t n_want = 0;
        assert_int_equal(lines_sorted(out, &want, &n_want), 0);
        assert_int_equal(l->n_containers, n_want);
        const char *got[l->n_containers + 1];
        for (size_t i = 0; i < l->n_containers; i++)
                got[i] = l->containers[i]->id;
        qsort(got, l->n_containers, sizeof(char *), strv_cmp);
        for (size_t i = 0; i < n_want; i++)
                assert_string_equal(got[i], want[i]);
}

static bool list_has(rpc_container_list *l, const char *id) {
        for (size_t i = 0; i < l->n_containers; i++)
                if (strcmp(l->containers[i]->id, id) == 0)
                        return true;
        return false;
}

static void test_containers_list(void **state) {
        (void) state;
        rpc_error err = { 0 };
        rpc_opts o = opts();
        {
                _cleanup_pb_msg_ rpc_container_list *l = NULL;
                assert_int_equal(rpc_containers_list(L.c, &o, NULL, 0, &l, &err), 0);
                assert_ids_equal_ctr(l, "");
                assert_true(list_has(l, L.id_run));
                assert_true(list_has(l, L.id_paused));
                assert_true(list_has(l, L.id_stopped));
                assert_true(list_has(l, L.id_notask));
        }
        {
                /* Filters reach containerd: the same answer as ctr's. */
                char f[128];
                snprintf(f, sizeof(f), "labels.ckptfstest==%s", L.prefix);
                const char *filters[] = { f };
                _cleanup_pb_msg_ rpc_container_list *l = NULL;
                assert_int_equal(rpc_containers_list(L.c, &o, filters, 1, &l, &err), 0);
                assert_int_equal(l->n_containers, 1);
                assert_string_equal(l->containers[0]->id, L.id_notask);
                _cleanup_free_ char *q = shell_quote(f);
                assert_ids_equal_ctr(l, q);
        }
        {
                /* Two filters are OR'ed. */
                char f1[128], f2[128];
                snprintf(f1, sizeof(f1), "id==%s", L.id_run);
                snprintf(f2, sizeof(f2), "id==%s", L.id_stopped);
                const char *filters[] = { f1, f2 };
                _cleanup_pb_msg_ rpc_container_list *l = NULL;
                assert_int_equal(rpc_containers_list(L.c, &o, filters, 2, &l, &err), 0);
                assert_int_equal(l->n_containers, 2);
                assert_true(list_has(l, L.id_run));
                assert_true(list_has(l, L.id_stopped));
        }
        {
                /* The namespace header is sent: another namespace is empty. */
                char other[64];
                snprintf(other, sizeof(other), "%s-empty", L.prefix);
                rpc_opts oo = { .ns = other, .timeout_ms = 30000 };
                _cleanup_pb_msg_ rpc_container_list *l = NULL;
                assert_int_equal(rpc_containers_list(L.c, &oo, NULL, 0, &l, &err), 0);
                assert_int_equal(l->n_containers, 0);
        }
}

/* RFC 3339 with optional fraction, as Go prints it, to seconds + nanos. */
static bool parse_rfc3339(const char *s, int64_t *ret_sec, int32_t *ret_nsec) {
        struct tm tm = { 0 };
        int n = 0;
        if (sscanf(s, "%d-%d-%dT%d:%d:%d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                   &tm.tm_sec, &n) != 6)
                return false;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        const char *p = s + n;
        int32_t ns = 0;
        if (*p == '.') {
                int digits = 0;
                for (p++; *p >= '0' && *p <= '9'; p++, digits++)
                        if (digits < 9)
                                ns = ns * 10 + (*p - '0');
                for (; digits < 9; digits++)
                        ns *= 10;
        }
        if (strcmp(p, "Z") != 0)
                return false;
        *ret_sec = (int64_t) timegm(&tm);
        *ret_nsec = ns;
        return true;
}

static void assert_time_equal(const Google__Protobuf__Timestamp *ts, json_t *j) {
        assert_non_null(ts);
        assert_true(json_is_string(j));
        int64_t sec;
        int32_t nsec;
        assert_true(parse_rfc3339(json_string_value(j), &sec, &nsec));
        assert_int_equal(ts->seconds, sec);
        assert_int_equal(ts->nanos, nsec);
}

static void assert_container_equals_ctr_info(const rpc_container *ct) {
        _cleanup_free_ char *out = NULL;
        assert_int_equal(ctr(&out, "containers info %s", ct->id), 0);
        json_error_t jerr;
        json_t *info = json_loads(out, 0, &jerr);
        if (!info)
                fail_msg("ctr c info %s: not JSON: %s", ct->id, jerr.text);

        assert_string_equal(ct->id, json_string_value(json_object_get(info, "ID")));
        assert_string_equal(ct->image, json_string_value(json_object_get(info, "Image")));
        assert_string_equal(ct->snapshotter, json_string_value(json_object_get(info, "Snapshotter")));
        assert_string_equal(ct->snapshot_key, json_string_value(json_object_get(info, "SnapshotKey")));
        json_t *rt = json_object_get(info, "Runtime");
        assert_non_null(ct->runtime);
        assert_string_equal(ct->runtime->name, json_string_value(json_object_get(rt, "Name")));
        json_t *rto = json_object_get(rt, "Options");
        if (json_is_object(rto)) {
                assert_non_null(ct->runtime->options);
                assert_string_equal(ct->runtime->options->type_url,
                                    json_string_value(json_object_get(rto, "type_url")));
        } else
                assert_null(ct->runtime->options);

        /* Labels: the same map. */
        json_t *want_labels = json_object_get(info, "Labels");
        json_t *got_labels = json_object();
        for (size_t i = 0; i < ct->n_labels; i++)
                json_object_set_new(got_labels, ct->labels[i]->key, json_string(ct->labels[i]->value));
        if (json_is_null(want_labels) || !want_labels)
                assert_int_equal(ct->n_labels, 0);
        else if (!json_equal(got_labels, want_labels)) {
                char *a = json_dumps(got_labels, JSON_SORT_KEYS), *b = json_dumps(want_labels, JSON_SORT_KEYS);
                fail_msg("labels of %s: rpc %s, ctr %s", ct->id, a, b);
        }
        json_decref(got_labels);

        assert_time_equal(ct->created_at, json_object_get(info, "CreatedAt"));
        assert_time_equal(ct->updated_at, json_object_get(info, "UpdatedAt"));

        json_t *ext = json_object_get(info, "Extensions");
        if (json_is_null(ext) || !ext)
                assert_int_equal(ct->n_extensions, 0);
        else
                assert_int_equal(ct->n_extensions, json_object_size(ext));

        /* The spec travels as JSON in an Any: the same document ctr shows. */
        assert_non_null(ct->spec);
        assert_non_null(strstr(ct->spec->type_url, "runtime-spec"));
        json_t *spec = json_loadb((const char *) ct->spec->value.data, ct->spec->value.len, 0, &jerr);
        if (!spec)
                fail_msg("spec of %s is not JSON: %s", ct->id, jerr.text);
        if (!json_equal(spec, json_object_get(info, "Spec")))
                fail_msg("spec of %s differs from ctr's", ct->id);
        json_decref(spec);
        json_decref(info);
}

static void test_containers_get(void **state) {
        (void) state;
        rpc_error err = { 0 };
        rpc_opts o = opts();
        const char *ids[] = { L.id_run, L.id_paused, L.id_stopped, L.id_notask };
        for (size_t i = 0; i < 4; i++) {
                _cleanup_pb_msg_ rpc_container_get *g = NULL;
                assert_int_equal(rpc_containers_get(L.c, &o, ids[i], &g, &err), 0);
                assert_non_null(g->container);
                assert_string_equal(g->container->id, ids[i]);
                assert_string_equal(g->container->image, L.image);
                assert_container_equals_ctr_info(g->container);
        }

        /* Missing: -ENOENT with the server's message naming the container. */
        char missing[96];
        snprintf(missing, sizeof(missing), "%s-missing", L.prefix);
        rpc_container_get *sentinel = (rpc_container_get *) (uintptr_t) 0x1, *g = sentinel;
        memset(&err, 0, sizeof(err));
        assert_int_equal(rpc_containers_get(L.c, &o, missing, &g, &err), -ENOENT);
        assert_ptr_equal(g, sentinel);
        assert_int_equal(err.status, GRPC_STATUS_NOT_FOUND);
        assert_non_null(strstr(err.message, missing));
        assert_non_null(strstr(err.message, "not found"));

        /* No namespace header: containerd refuses (FAILED_PRECONDITION). */
        memset(&err, 0, sizeof(err));
        rpc_opts no_ns = { .timeout_ms = 30000 };
        assert_int_equal(rpc_containers_get(L.c, &no_ns, L.id_run, &g, &err), -EBUSY);
        assert_ptr_equal(g, sentinel);
        assert_int_equal(err.status, GRPC_STATUS_FAILED_PRECONDITION);
        assert_non_null(strstr(err.message, "namespace"));
}

/* ------------------------------------------------------------ tasks */

typedef struct {
        char id[256];
        long pid;
        char status[32];
} task_row;

static size_t ctr_task_rows(task_row *rows, size_t max) {
        _cleanup_free_ char *out = NULL;
        assert_int_equal(ctr(&out, "tasks ls"), 0);
        size_t n = 0;
        bool header = true;
        char *save = NULL;
        for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (header) {
                        assert_non_null(strstr(line, "TASK"));
                        header = false;
                        continue;
                }
                assert_true(n < max);
                assert_int_equal(sscanf(line, "%255s %ld %31s", rows[n].id, &rows[n].pid, rows[n].status), 3);
                n++;
        }
        return n;
}

static const char *status_name(Containerd__V1__Types__Status s) {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&containerd__v1__types__status__descriptor,
                                                                           (int) s);
        return v ? v->name : "?";
}

static void test_tasks(void **state) {
        (void) state;
        task_row rows[64];
        size_t n = ctr_task_rows(rows, 64);
        assert_true(n >= 3);

        rpc_error err = { 0 };
        rpc_opts o = opts();
        for (size_t i = 0; i < n; i++) {
                _cleanup_pb_msg_ rpc_task_get *g = NULL;
                assert_int_equal(rpc_tasks_get(L.c, &o, rows[i].id, &g, &err), 0);
                assert_non_null(g->process);
                /* containerd fills id (the container's), not container_id. */
                assert_string_equal(g->process->id, rows[i].id);
                assert_int_equal(g->process->pid, rows[i].pid);
                assert_string_equal(status_name(g->process->status), rows[i].status);
        }

        /* Ours, in the states we put them in. */
        struct {
                const char *id;
                Containerd__V1__Types__Status status;
        } want[] = {
                { L.id_run, CONTAINERD__V1__TYPES__STATUS__RUNNING },
                { L.id_paused, CONTAINERD__V1__TYPES__STATUS__PAUSED },
                { L.id_stopped, CONTAINERD__V1__TYPES__STATUS__STOPPED },
        };
        for (size_t i = 0; i < 3; i++) {
                _cleanup_pb_msg_ rpc_task_get *g = NULL;
                assert_int_equal(rpc_tasks_get(L.c, &o, want[i].id, &g, &err), 0);
                assert_int_equal(g->process->status, want[i].status);
                assert_true(g->process->pid > 0);
                if (want[i].status == CONTAINERD__V1__TYPES__STATUS__STOPPED) {
                        assert_int_equal(g->process->exit_status, 3);
                        assert_non_null(g->process->exited_at);
                } else {
                        /* The pid is a real process on this host, the one we ran. */
                        char needle[32];
                        snprintf(needle, sizeof(needle), "%s", i == 0 ? "memhog" : "sleep");
                        assert_true(pid_cmdline_has((pid_t) g->process->pid, needle));
                }
        }

        /* No task: -ENOENT naming the container. */
        rpc_task_get *g = NULL;
        memset(&err, 0, sizeof(err));
        assert_int_equal(rpc_tasks_get(L.c, &o, L.id_notask, &g, &err), -ENOENT);
        assert_null(g);
        assert_int_equal(err.status, GRPC_STATUS_NOT_FOUND);
        assert_non_null(strstr(err.message, L.id_notask));
}

/* ------------------------------------------------------------ client */

static void test_relative_address(void **state) {
        (void) state;
        char cwd[PATH_MAX];
        assert_non_null(getcwd(cwd, sizeof(cwd)));
        _cleanup_free_ char *dir = strdup(L.addr);
        char *slash = strrchr(dir, '/');
        assert_non_null(slash);
        *slash = '\0';
        assert_int_equal(chdir(dir), 0);
        _cleanup_(client_freep) rpc_client *c = NULL;
        int r = rpc_client_new(slash + 1, 5000, &c);
        rpc_error err = { 0 };
        rpc_version *v = NULL;
        if (r == 0)
                r = rpc_version_get(c, &(rpc_opts) { .ns = L.ns }, &v, &err);
        assert_int_equal(chdir(cwd), 0);
        if (r < 0)
                fail_msg("relative socket path %s: %d %s", slash + 1, r, err.message);
        pb_msg_free(v);
}
#define T(f) cmocka_unit_test_setup_teardown(f, live_arm, live_disarm)

int main(void) {
        /* Before the first client (rpc.h): the fault tests want calls to
         * work again within ~1 s after the daemon is back. */
        setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "100", 0);
        const struct CMUnitTest live[] = {
                T(test_version),
                T(test_namespaces),
                T(test_containers_list),
                T(test_containers_get),
                T(test_tasks),
                T(test_content_write_buffer),
                T(test_content_write_pull),
                T(test_content_write_existing),
                T(test_content_write_edges),
                T(test_content_lease),
                T(test_content_read_ranges),
                T(test_content_read_errors),
                T(test_content_read_cb_error),
                T(test_deadline),
                T(test_events_image_create),
                T(test_events_cancel),
                T(test_relative_address),
                T(test_concurrent_calls),
        };
        int failed = cmocka_run_group_tests_name("rpc-live", live, group_setup, group_teardown);
        failed += live_fault_run();
        return failed;
}
