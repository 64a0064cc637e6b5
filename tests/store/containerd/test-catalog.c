/* store_catalog and store_blobs against a real containerd (started by
 * run-catalog.sh with scripts/testenv.sh; `ctr` is the peer).
 *
 * Env: CKPTFS_TEST_ADDR, CKPTFS_TEST_NS, CKPTFS_TEST_DIR,
 * CKPTFS_TEST_CONTAINERD_PID (stopped for a moment), and CKPT_NAME /
 * CKPT_ID: a checkpoint image the script made with `ctr c checkpoint` of
 * container CKPT_ID (so it has no checkpoint label: found by its index). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "catalog.h"
#include "db.h"
#include "monotime.h"

static const char *addr, *ns, *dir, *ckpt_name, *ckpt_id;

/* Runs a shell command, returns its stdout (trailing newline cut). */
static char *sh(const char *fmt, ...) {
        char cmd[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        char *out = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&out, &len);
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
                fwrite(buf, 1, n, m);
        fclose(m);
        assert_int_equal(pclose(p), 0);
        while (len && out[len - 1] == '\n')
                out[--len] = 0;
        return out;
}

typedef struct env {
        rpc_client *rpc;
        struct store_db *db;
        store_blobs *blobs;
        char dbpath[512];
} env;

static int setup(void **state) {
        env *e = calloc(1, sizeof(*e));
        assert_int_equal(rpc_client_new(addr, 5000, &e->rpc), 0);
        snprintf(e->dbpath, sizeof(e->dbpath), "%s/test-catalog-%d.db", dir, getpid());
        unlink(e->dbpath);
        assert_int_equal(store_db_open(e->dbpath, &e->db), 0);
        assert_int_equal(store_blobs_new(e->rpc, NULL, &e->blobs), 0);
        *state = e;
        return 0;
}

static int teardown(void **state) {
        env *e = *state;
        store_blobs_free(e->blobs);
        store_db_close(e->db);
        rpc_client_free(e->rpc);
        unlink(e->dbpath);
        free(e);
        return 0;
}

static char *target_of(const char *name) {
        return sh("ctr --address '%s' -n '%s' images ls | awk -v n='%s' '$1 == n { print $3 }'", addr, ns, name);
}

/* Introspection tells where the content store is: the test env's root,
 * whose blob files are then what readers read. */
static void test_discover_root(void **state) {
        env *e = *state;
        int r = store_blobs_discover_root(e->blobs);
        if (r < 0)
                fprintf(stderr, "discover: %s\n", strerror(-r));
        assert_int_equal(r, 0);
        char *digest = target_of(ckpt_name);
        char path[700];
        snprintf(path, sizeof(path), "%s/root/io.containerd.content.v1.content/blobs/sha256/%s", dir, digest + 7);
        struct stat want, got;
        assert_int_equal(stat(path, &want), 0);
        struct store_reader *rd;
        assert_int_equal(store_blob_open(e->blobs, ns, digest, (uint64_t) want.st_size, &rd), 0);
        assert_true(rd->fd >= 0);
        assert_int_equal(fstat(rd->fd, &got), 0);
        assert_true(got.st_dev == want.st_dev && got.st_ino == want.st_ino);
        store_reader_free(rd);
        free(digest);
}

/* Both paths (local file, Content.Read) give `ctr content get`'s bytes;
 * read_all checks the digest. */
static void test_blob_paths(void **state) {
        env *e = *state;
        char *digest = target_of(ckpt_name);
        char *want = sh("ctr --address '%s' -n '%s' content get '%s'", addr, ns, digest);
        size_t want_len = strlen(want);

        for (int local = 0; local < 2; local++) {
                store_blobs *b;
                assert_int_equal(store_blobs_new(e->rpc, NULL, &b), 0);
                if (local)
                        assert_int_equal(store_blobs_discover_root(b), 0);
                uint8_t *buf;
                size_t len;
                assert_int_equal(store_blob_read_all(b, ns, digest, want_len, 1 << 20, &buf, &len), 0);
                assert_int_equal(len, want_len);
                assert_memory_equal(buf, want, len);
                free(buf);

                /* A reader at an offset. */
                struct store_reader *rd;
                assert_int_equal(store_blob_open(b, ns, digest, want_len, &rd), 0);
                assert_true(local ? rd->fd >= 0 : rd->fd < 0);
                char mid[16];
                assert_int_equal(store_reader_read_exact(rd, mid, 10, 5), 0);
                assert_memory_equal(mid, want + 5, 10);
                store_reader_free(rd);

                /* A wrong size is not the blob: the digest check says EIO. */
                assert_int_equal(store_blob_read_all(b, ns, digest, want_len - 1, 1 << 20, &buf, &len), -EIO);
                store_blobs_free(b);
        }
        free(want);
        free(digest);
}

static bool strv_has(char **v, const char *s) {
        for (size_t i = 0; v && v[i]; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

/* A ctr-made checkpoint is found (by its CRIU descriptor), the base image
 * is not; the container is named by the config blob; the reach set is the
 * index, its descriptors, and the image manifest's config and layers. */
static void test_sync(void **state) {
        env *e = *state;
        store_catalog *c;
        assert_int_equal(store_catalog_new(e->rpc, e->db, e->blobs, NULL, &c), 0);
        char **names;
        assert_int_equal(store_catalog_names(c, ns, &names), 0);
        assert_null(names[0]);
        strv_free(names);

        assert_int_equal(store_catalog_sync(c, NULL), 0);
        assert_int_equal(store_catalog_names(c, ns, &names), 0);
        assert_true(strv_has(names, ckpt_name));
        assert_false(strv_has(names, getenv("CKPTFS_TEST_IMAGE")));
        strv_free(names);

        char **cn, **tags;
        assert_int_equal(store_catalog_container_ckpts(c, ns, ckpt_id, &cn, &tags), 0);
        assert_true(strv_has(cn, ckpt_name));
        strv_free(cn);
        strv_free(tags);

        store_ckpt ck;
        assert_int_equal(store_catalog_get(c, ns, ckpt_name, &ck), 0);
        char *digest = target_of(ckpt_name);
        assert_string_equal(ck.target.digest, digest);
        store_descs kids, all;
        assert_int_equal(store_catalog_children(c, ns, &ck.target, &kids), 0);
        assert_int_equal(store_catalog_reach(c, ns, &ck.target, &all), 0);
        /* index + its children + the manifest's config and layer(s) */
        assert_true(kids.n >= 5);
        assert_true(all.n > kids.n);
        assert_string_equal(all.v[0].digest, digest);
        /* As many descriptors as the index blob has digests. */
        char *json = sh("ctr --address '%s' -n '%s' content get '%s' | grep -o '\"digest\"' | wc -l", addr, ns,
                        digest);
        assert_int_equal((size_t) atoi(json), kids.n);
        free(json);
        store_descs_clear(&kids);
        store_descs_clear(&all);
        store_ckpt_clear(&ck);
        store_catalog_free(c);

        /* A new catalog on the same database lists it without containerd. */
        rpc_client *dead;
        assert_int_equal(rpc_client_new("/nonexistent/ckptfs.sock", 500, &dead), 0);
        store_blobs *nob;
        assert_int_equal(store_blobs_new(dead, NULL, &nob), 0);
        assert_int_equal(store_catalog_new(dead, e->db, nob, NULL, &c), 0);
        assert_int_equal(store_catalog_names(c, ns, &names), 0);
        assert_true(strv_has(names, ckpt_name));
        strv_free(names);
        assert_int_equal(store_catalog_get(c, ns, ckpt_name, &ck), 0);
        assert_int_equal(store_catalog_children(c, ns, &ck.target, &kids), 0);
        assert_true(kids.n >= 5);
        store_descs_clear(&kids);
        store_ckpt_clear(&ck);
        assert_true(store_catalog_sync(c, NULL) < 0);
        store_catalog_free(c);
        store_blobs_free(nob);
        rpc_client_free(dead);
        free(digest);
}

/* store_catalog_get() of name in ns, polled until it says `want` or `ms`
 * passed (0: once). */
static int get_within(store_catalog *c, const char *name, int want, int ms) {
        for (int waited = 0;; waited += 50) {
                store_ckpt ck;
                int r = store_catalog_get(c, ns, name, &ck);
                if (r == 0)
                        store_ckpt_clear(&ck);
                if (r == want || waited >= ms)
                        return r;
                usleep(50 * 1000);
        }
}

/* A resync asked for in the background: the request returns at once, even
 * while containerd cannot answer (stopped: a resync waits for it), many
 * requests coalesce, and what the resync finds shows afterwards. No events
 * thread runs: only the resync can bring the new name. */
static void test_request_sync(void **state) {
        env *e = *state;
        store_catalog *c;
        assert_int_equal(store_catalog_new(e->rpc, e->db, e->blobs, NULL, &c), 0);
        assert_int_equal(store_catalog_sync(c, NULL), 0);
        char tagged[600];
        snprintf(tagged, sizeof(tagged), "%s-bg", ckpt_name);
        free(sh("ctr --address '%s' -n '%s' images tag '%s' '%s'", addr, ns, ckpt_name, tagged));
        assert_int_equal(get_within(c, tagged, -ENOENT, 0), -ENOENT);

        pid_t daemon = (pid_t) atoi(getenv("CKPTFS_TEST_CONTAINERD_PID"));
        assert_true(daemon > 1);
        assert_int_equal(kill(daemon, SIGSTOP), 0);
        struct timespec t0 = monotime_now();
        for (int i = 0; i < 100; i++) {
                store_catalog_request_sync(c, ns);
                store_catalog_request_sync(c, NULL);
        }
        long ms = monotime_ms_since(&t0);
        usleep(300 * 1000);
        int while_stopped = get_within(c, tagged, -ENOENT, 0);
        /* Before any assertion: a failed one must not leave it stopped. */
        assert_int_equal(kill(daemon, SIGCONT), 0);
        /* A call waiting for the stopped daemon would take its 5 s deadline. */
        assert_true(ms < 1000);
        assert_int_equal(while_stopped, -ENOENT);
        assert_int_equal(get_within(c, tagged, 0, 8000), 0);

        free(sh("ctr --address '%s' -n '%s' images rm '%s' >/dev/null", addr, ns, tagged));
        store_catalog_request_sync(c, ns);
        assert_int_equal(get_within(c, tagged, -ENOENT, 8000), -ENOENT);
        store_catalog_free(c);
}

/* Whether the database holds checkpoint `name` of ns: what a catalog with
 * no containerd loads. */
static bool db_has(env *e, const char *name) {
        rpc_client *dead;
        assert_int_equal(rpc_client_new("/nonexistent/ckptfs.sock", 500, &dead), 0);
        store_blobs *nob;
        assert_int_equal(store_blobs_new(dead, NULL, &nob), 0);
        store_catalog *c;
        assert_int_equal(store_catalog_new(dead, e->db, nob, NULL, &c), 0);
        store_ckpt ck;
        int r = store_catalog_get(c, ns, name, &ck);
        if (r == 0)
                store_ckpt_clear(&ck);
        store_catalog_free(c);
        store_blobs_free(nob);
        rpc_client_free(dead);
        return r == 0;
}

/* One image now (Images.Get), without an event or a resync: a new
 * checkpoint comes into memory and the database, an image that is no
 * checkpoint does not, an unknown name is -ENOENT, and a removed one goes. */
static void test_sync_image(void **state) {
        env *e = *state;
        store_catalog *c;
        assert_int_equal(store_catalog_new(e->rpc, e->db, e->blobs, NULL, &c), 0);
        assert_int_equal(store_catalog_sync(c, NULL), 0);
        char tagged[600], other[600];
        snprintf(tagged, sizeof(tagged), "%s-now", ckpt_name);
        snprintf(other, sizeof(other), "%s-other", ckpt_name);
        free(sh("ctr --address '%s' -n '%s' images tag '%s' '%s' '%s'", addr, ns, ckpt_name, tagged, other));
        assert_int_equal(get_within(c, tagged, -ENOENT, 0), -ENOENT);

        /* Just that image: not a resync of its namespace. */
        assert_int_equal(store_catalog_sync_image(c, ns, tagged), 0);
        assert_int_equal(get_within(c, other, -ENOENT, 0), -ENOENT);
        free(sh("ctr --address '%s' -n '%s' images rm '%s' >/dev/null", addr, ns, other));
        store_ckpt ck;
        assert_int_equal(store_catalog_get(c, ns, tagged, &ck), 0);
        char *digest = target_of(ckpt_name);
        assert_string_equal(ck.target.digest, digest);
        store_ckpt_clear(&ck);
        free(digest);
        assert_true(db_has(e, tagged));

        const char *base = getenv("CKPTFS_TEST_IMAGE");
        assert_int_equal(store_catalog_sync_image(c, ns, base), 0);
        assert_int_equal(store_catalog_get(c, ns, base, &ck), -ENOENT);
        assert_int_equal(store_catalog_sync_image(c, ns, "ckpt/no-such:image"), -ENOENT);

        free(sh("ctr --address '%s' -n '%s' images rm '%s' >/dev/null", addr, ns, tagged));
        assert_int_equal(store_catalog_sync_image(c, ns, tagged), -ENOENT);
        assert_int_equal(store_catalog_get(c, ns, tagged, &ck), -ENOENT);
        assert_false(db_has(e, tagged));
        assert_int_equal(store_catalog_get(c, ns, ckpt_name, &ck), 0);
        store_ckpt_clear(&ck);
        store_catalog_free(c);
}

typedef struct seen {
        int n;
        char last[512];
} seen;

static void on_change(void *userdata, const char *cns, const char *name, bool containers) {
        seen *s = userdata;
        if (name && strcmp(cns, ns) == 0) {
                snprintf(s->last, sizeof(s->last), "%s", name);
                __atomic_add_fetch(&s->n, 1, __ATOMIC_SEQ_CST);
        }
}

/* Events: a new name appears, a removed one goes, within 2 s. */
static void test_events(void **state) {
        env *e = *state;
        store_catalog *c;
        seen s = { 0 };
        assert_int_equal(store_catalog_new(e->rpc, e->db, e->blobs, NULL, &c), 0);
        assert_int_equal(store_catalog_start(c, on_change, &s), 0);
        usleep(500 * 1000);
        char tagged[600];
        snprintf(tagged, sizeof(tagged), "%s-evt", ckpt_name);
        free(sh("ctr --address '%s' -n '%s' images tag '%s' '%s'", addr, ns, ckpt_name, tagged));
        store_ckpt ck;
        int r = -ENOENT;
        for (int i = 0; i < 40 && r < 0; i++) {
                usleep(50 * 1000);
                r = store_catalog_get(c, ns, tagged, &ck);
        }
        assert_int_equal(r, 0);
        store_ckpt_clear(&ck);
        free(sh("ctr --address '%s' -n '%s' images rm '%s' >/dev/null", addr, ns, tagged));
        r = 0;
        for (int i = 0; i < 40 && r == 0; i++) {
                usleep(50 * 1000);
                r = store_catalog_get(c, ns, tagged, &ck);
                if (r == 0)
                        store_ckpt_clear(&ck);
        }
        assert_int_equal(r, -ENOENT);
        assert_true(__atomic_load_n(&s.n, __ATOMIC_SEQ_CST) >= 2);
        assert_string_equal(s.last, tagged);
        store_catalog_free(c);
}

int main(void) {
        addr = getenv("CKPTFS_TEST_ADDR");
        ns = getenv("CKPTFS_TEST_NS");
        dir = getenv("CKPTFS_TEST_DIR");
        ckpt_name = getenv("CKPT_NAME");
        ckpt_id = getenv("CKPT_ID");
        if (!addr || !ns || !dir || !ckpt_name || !ckpt_id || !getenv("CKPTFS_TEST_CONTAINERD_PID")) {
                fprintf(stderr, "run me through run-catalog.sh\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_discover_root, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blob_paths, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
                cmocka_unit_test_setup_teardown(test_request_sync, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sync_image, setup, teardown),
                cmocka_unit_test_setup_teardown(test_events, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
