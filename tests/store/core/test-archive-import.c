/* store/core/archive-layout.c and archive-name.c: an engine's archive
 * converted into a private layout directory for the import (the directory
 * is new, 0700, and gone after a failure or once cleared), and the image
 * name derived from config.dump. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "helpers.h"
#include "import-src.h"

#define SPEC "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}}"
#define CONFIG                                                                                                 \
        "{\"id\":\"0123abc\",\"name\":\"MemHog_1\",\"rootfsImageName\":\"docker.io/library/busybox:1\","  \
        "\"runtime\":\"io.containerd.runc.v2\",\"checkpointedTime\":\"2026-12-03T07:52:39.123456Z\"}"

static int setup(void **state) {
        (void) state;
        setenv("TZ", "UTC", 1);
        tzset();
        return 0;
}

static void test_parse_time(void **state) {
        (void) state;
        time_t t = 0;
        assert_int_equal(store_archive_parse_time("2026-12-03T07:52:39.123456Z", &t), 0);
        assert_int_equal(t, 1796284359);
        assert_int_equal(store_archive_parse_time("2026-12-03T08:52:39+01:00", &t), 0);
        assert_int_equal(t, 1796284359);
        assert_int_equal(store_archive_parse_time("2026-12-03T02:22:39.5-05:30", &t), 0);
        assert_int_equal(t, 1796284359);
        const char *bad[] = { "0001-01-01T00:00:00Z", "2026-12-03", "2026-12-03T07:52:39", "2026-12-03T07:52:39Zx",
                              "2026-12-03T07:52:39+1:00", "", NULL };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(store_archive_parse_time(bad[i], &t), -EINVAL);
}

static void test_default_name(void **state) {
        (void) state;
        char *n = NULL;
        assert_int_equal(store_archive_default_name(CONFIG, strlen(CONFIG), 0, &n), 0);
        assert_string_equal(n, "containerd.io/checkpoint/memhog_1:12-03-2026-07:52:39");
        free(n);
        /* no name: the id; no (or Go's zero) time: now */
        const char *c2 = "{\"id\":\"web/1\",\"checkpointedTime\":\"0001-01-01T00:00:00Z\"}";
        assert_int_equal(store_archive_default_name(c2, strlen(c2), 1796284359, &n), 0);
        assert_string_equal(n, "containerd.io/checkpoint/web-1:12-03-2026-07:52:39");
        free(n);
        assert_int_equal(store_archive_default_name("{}", 2, 1796284359, &n), 0);
        assert_string_equal(n, "containerd.io/checkpoint/imported:12-03-2026-07:52:39");
        free(n);
        assert_int_equal(store_archive_default_name("[1]", 3, 0, &n), -EBADMSG);
        assert_int_equal(store_archive_default_name("{", 1, 0, &n), -EBADMSG);
}

static void cri_archive(struct th_buf *t, const char *extra) {
        th_tar_file(t, "checkpoint/inventory.img", "INV", 3);
        th_tar_file(t, "spec.dump", SPEC, strlen(SPEC));
        th_tar_file(t, "config.dump", CONFIG, strlen(CONFIG));
        th_tar_file(t, "status.dump", "{}", 2);
        if (extra)
                th_tar_file(t, extra, "x", 1);
        th_tar_end(t);
}

static int entries(const char *dir) {
        DIR *d = opendir(dir);
        assert_non_null(d);
        int n = 0;
        for (struct dirent *e; (e = readdir(d));)
                n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
        closedir(d);
        return n;
}

static char *write_tmp(const char *root, const char *name, struct th_buf *t) {
        char *p = NULL;
        assert_true(asprintf(&p, "%s/%s", root, name) > 0);
        assert_int_equal(th_write_file(p, t->p, t->len), 0);
        return p;
}

static void test_to_layout(void **state) {
        (void) state;
        char *root = th_mkdtemp(), *work = NULL;
        assert_true(asprintf(&work, "%s/work", root) > 0);
        assert_int_equal(mkdir(work, 0755), 0);
        struct th_buf t = { 0 };
        cri_archive(&t, NULL);
        char *path = write_tmp(root, "cri.tar", &t), *msg = NULL;
        store_archive_layout l;
        assert_int_equal(store_archive_to_layout(path, work, NULL, NULL, &l, &msg), 0);
        assert_null(msg);
        assert_int_equal(l.kind, ARCHIVE_CONTAINERD_CRI);
        assert_string_equal(l.name, "containerd.io/checkpoint/memhog_1:12-03-2026-07:52:39");
        assert_int_equal(strncmp(l.dir, work, strlen(work)), 0);
        struct stat st;
        assert_int_equal(stat(l.dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        char f[8192];
        snprintf(f, sizeof(f), "%s/index.json", l.dir);
        assert_int_equal(access(f, R_OK), 0);
        assert_int_equal(entries(work), 1);
        store_archive_layout_clear(&l);
        assert_int_equal(entries(work), 0);
        store_archive_layout_clear(&l); /* idempotent */
        /* given names win */
        assert_int_equal(store_archive_to_layout(path, work, "x/y:z", "busybox:2", &l, &msg), 0);
        assert_string_equal(l.name, "x/y:z");
        store_archive_layout_clear(&l);
        th_buf_free(&t);
        free(path);
        free(work);
        th_rm_rf(root);
        free(root);
}

/* Refused or not an archive: the errno the import reports, a message, and
 * nothing left in the work root. */
static void test_refused(void **state) {
        (void) state;
        char *root = th_mkdtemp();
        struct th_buf trav = { 0 }, oci = { 0 }, trunc = { 0 };
        cri_archive(&trav, "checkpoint/../../etc/passwd");
        th_tar_file(&oci, "oci-layout", "{}", 2);
        th_tar_file(&oci, "index.json", "{}", 2);
        th_tar_end(&oci);
        cri_archive(&trunc, NULL);
        trunc.len = 700; /* inside the first member's data */
        uint8_t zstd[16] = { 0x28, 0xb5, 0x2f, 0xfd };
        struct th_buf z = { .p = zstd, .len = sizeof(zstd) };
        struct { struct th_buf *t; const char *name; int want; } cases[] = {
                { &trav, "trav.tar", -EINVAL }, { &oci, "oci.tar", -EMEDIUMTYPE },
                { &trunc, "trunc.tar", -EIO },  { &z, "x.tar.zst", -EINVAL },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *path = write_tmp(root, cases[i].name, cases[i].t), *msg = NULL;
                store_archive_layout l;
                assert_int_equal(store_archive_to_layout(path, root, NULL, NULL, &l, &msg), cases[i].want);
                assert_non_null(msg);
                if (i == 3)
                        assert_non_null(strstr(msg, "zstd"));
                free(msg);
                assert_int_equal(unlink(path), 0);
                assert_int_equal(entries(root), 0);
                free(path);
        }
        char *msg = NULL;
        store_archive_layout l;
        assert_int_equal(store_archive_to_layout("/nonexistent/x.tar", root, NULL, NULL, &l, &msg), -ENOENT);
        free(msg);
        th_buf_free(&trav);
        th_buf_free(&oci);
        th_buf_free(&trunc);
        th_rm_rf(root);
        free(root);
}

/* import_src_open: a layout as it is, an archive converted, the refusals. */
static void test_import_src(void **state) {
        (void) state;
        char *root = th_mkdtemp(), *work = NULL, *dir = NULL;
        assert_true(asprintf(&work, "%s/work", root) > 0 && asprintf(&dir, "%s/layout", root) > 0);
        assert_int_equal(mkdir(work, 0755), 0);
        assert_int_equal(mkdir(dir, 0755), 0);
        char f[8192];
        snprintf(f, sizeof(f), "%s/index.json", dir);
        assert_int_equal(th_write_file(f, "{}", 2), 0);
        struct th_buf cri = { 0 }, trav = { 0 }, unk = { 0 }, oci = { 0 }, other = { 0 }, trunc = { 0 };
        cri_archive(&cri, NULL);
        cri_archive(&trav, "checkpoint/../../etc/passwd");
        th_tar_file(&unk, "checkpoint/inventory.img", "INV", 3);
        th_tar_file(&unk, "spec.dump", SPEC, strlen(SPEC));
        th_tar_file(&unk, "config.dump", CONFIG, strlen(CONFIG));
        th_tar_end(&unk);
        th_tar_file(&oci, "oci-layout", "{}", 2);
        th_tar_file(&oci, "index.json", "{}", 2);
        th_tar_end(&oci);
        th_tar_file(&other, "hello.txt", "hi", 2);
        th_tar_end(&other);
        cri_archive(&trunc, NULL);
        trunc.len = 700;
        uint8_t zstd[16] = { 0x28, 0xb5, 0x2f, 0xfd };
        struct th_buf z = { .p = zstd, .len = sizeof(zstd) };
        struct {
                struct th_buf *t;
                const char *file;
                int want;
                bool archive;
                const char *msg;
        } cases[] = {
                { NULL, dir, 0, false, NULL },
                { &oci, "oci.tar", 0, false, NULL },
                { &other, "other.tar", 0, false, NULL }, /* the layout's check says what is missing */
                { &cri, "cri.tar", 0, true, NULL },
                { &trav, "trav.tar", -EINVAL, false, "refused" },
                { &unk, "unknown.tar", -EINVAL, false, "unknown engine" },
                { &trunc, "trunc.tar", -EIO, false, NULL },
                { &z, "x.tar.zst", -EINVAL, false, "zstd" },
                { NULL, "/nonexistent/x.tar", -ENOENT, false, NULL },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *path = cases[i].t ? write_tmp(root, cases[i].file, cases[i].t) : strdup(cases[i].file);
                char *msg = NULL;
                oci_src *s = NULL;
                store_archive_layout l = { .dir = "" };
                int r = import_src_open(path, work, NULL, NULL, &s, &l, &msg);
                if (r != cases[i].want)
                        fail_msg("%s: %d (%s), want %d", cases[i].file, r, msg ? msg : "-", cases[i].want);
                assert_int_equal(r < 0, s == NULL);
                assert_int_equal(l.dir[0] != '\0', cases[i].archive);
                if (cases[i].archive)
                        assert_int_equal(oci_src_is_tar(s), 0);
                if (cases[i].msg)
                        if (!msg || !strstr(msg, cases[i].msg))
                                fail_msg("%s: message %s", cases[i].file, msg ? msg : "(none)");
                if (s)
                        oci_src_free(s);
                store_archive_layout_clear(&l);
                assert_int_equal(entries(work), 0);
                free(msg);
                free(path);
        }
        struct th_buf *bufs[] = { &cri, &trav, &unk, &oci, &other, &trunc };
        for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
                th_buf_free(bufs[i]);
        free(work);
        free(dir);
        th_rm_rf(root);
        free(root);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_time),
                cmocka_unit_test(test_default_name),
                cmocka_unit_test(test_to_layout),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_import_src),
        };
        return cmocka_run_group_tests(tests, setup, NULL);
}
