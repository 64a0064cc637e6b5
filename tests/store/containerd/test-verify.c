/* sha256 checks of blobs: the streaming verifier (chunks in any order) and
 * the once-per-file check of local blob files. Pure logic, no containerd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob.h"

static const char *data = "hello\n";
static const char *good = "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
static const char *bad = "sha256:0000b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

static void oracle_digest(const void *buf, size_t len, char out[7 + 64 + 1]) {
        unsigned char md[SHA256_DIGEST_LENGTH];
        SHA256(buf, len, md);
        strcpy(out, "sha256:");
        for (size_t i = 0; i < sizeof(md); i++)
                sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

static void test_in_order(void **state) {
        store_blob_verifier *v;
        assert_int_equal(store_blob_verifier_new(good, 6, &v), 0);
        assert_int_equal(store_blob_verifier_feed(v, data, 3, 0), 0);
        assert_false(store_blob_verifier_matched(v));   /* not yet whole */
        assert_int_equal(store_blob_verifier_feed(v, data, 2, 0), 0); /* a reread */
        assert_int_equal(store_blob_verifier_feed(v, data + 3, 3, 3), 0);
        assert_true(store_blob_verifier_matched(v));
        store_blob_verifier_free(v);
        assert_int_equal(store_blob_verifier_new(bad, 6, &v), 0);
        assert_int_equal(store_blob_verifier_feed(v, data, 6, 0), -EIO);
        assert_false(store_blob_verifier_matched(v));
        store_blob_verifier_free(v);
        assert_int_equal(store_blob_verifier_new("md5:x", 6, &v), -EINVAL);
        /* An empty blob has its verdict at once: no chunk will come. */
        assert_int_equal(store_blob_verifier_new("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                                                 0, &v), 0);
        assert_true(store_blob_verifier_matched(v));
        assert_int_equal(store_blob_verifier_feed(v, data, 0, 0), 0);
        store_blob_verifier_free(v);
        assert_int_equal(store_blob_verifier_new(good, 0, &v), 0);
        assert_false(store_blob_verifier_matched(v));
        assert_int_equal(store_blob_verifier_feed(v, data, 0, 0), -EIO);
        store_blob_verifier_free(v);
}

/* Every order of 64 chunks of 4 KiB, as FUSE threads may deliver them, with
 * rereads and overlaps mixed in: the result is the digest's verdict. */
static void test_out_of_order(void **state) {
        enum { N = 64, CH = 4096 };
        uint8_t *blob = malloc(N * CH);
        assert_non_null(blob);
        for (size_t i = 0; i < N * CH; i++)
                blob[i] = (uint8_t) (i * 7 + i / 13);
        char dg[80], wrong[80];
        oracle_digest(blob, N * CH, dg);
        strcpy(wrong, dg);
        wrong[10] = wrong[10] == '0' ? '1' : '0';
        srand(42);
        for (int round = 0; round < 200; round++) {
                int order[N];
                for (int i = 0; i < N; i++)
                        order[i] = i;
                /* Shuffle within windows of 8: a readahead's worth. */
                for (int i = 0; i < N; i++) {
                        int j = (i & ~7) + rand() % 8;
                        int t = order[i];
                        order[i] = order[j];
                        order[j] = t;
                }
                const char *want = round % 2 ? dg : wrong;
                store_blob_verifier *v;
                assert_int_equal(store_blob_verifier_new(want, N * CH, &v), 0);
                int r = 0;
                for (int i = 0; i < N; i++) {
                        size_t off = (size_t) order[i] * CH;
                        size_t len = CH + (order[i] < N - 1 && rand() % 4 == 0 ? CH / 2 : 0); /* overlap */
                        r = store_blob_verifier_feed(v, blob + off, len, off);
                        if (i < N - 1)
                                assert_int_equal(r, 0);
                        if (rand() % 8 == 0) /* a reread */
                                assert_int_equal(store_blob_verifier_feed(v, blob, CH, 0), i < N - 1 ? 0 : r);
                }
                assert_int_equal(r, want == dg ? 0 : -EIO);
                assert_int_equal(store_blob_verifier_matched(v), want == dg);
                store_blob_verifier_free(v);
        }
        free(blob);
}

/* A jump further ahead than the reorder window is random access: no verdict. */
static void test_random_access(void **state) {
        store_blob_verifier *v;
        assert_int_equal(store_blob_verifier_new(bad, 6, &v), 0);
        assert_int_equal(store_blob_verifier_feed(v, data + 3, 3, 3), 0);
        /* kept: the gap fills, and the verdict comes */
        assert_int_equal(store_blob_verifier_feed(v, data, 3, 0), -EIO);
        store_blob_verifier_free(v);

        size_t big = (size_t) 40 << 20;
        uint8_t *buf = calloc(1, big);
        assert_non_null(buf);
        assert_int_equal(store_blob_verifier_new(bad, big + 1, &v), 0);
        assert_int_equal(store_blob_verifier_feed(v, buf, big, 1), 0);
        /* gave up (too far ahead): the gap filled, no verdict */
        assert_int_equal(store_blob_verifier_feed(v, buf, 1, 0), 0);
        assert_false(store_blob_verifier_matched(v));
        store_blob_verifier_free(v);
        free(buf);
}

static int write_file(const char *path, const void *buf, size_t len) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -1;
        ssize_t n = write(fd, buf, len);
        close(fd);
        return n == (ssize_t) len ? 0 : -1;
}

/* A local file is checked once; changed, it is checked again. */
static void test_verify_file(void **state) {
        char dir[] = "/tmp/ckptfs-verify.XXXXXX", path[64];
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/blob", dir);
        store_blobs *b;
        assert_int_equal(store_blobs_new(NULL, dir, &b), 0);

        assert_int_equal(write_file(path, data, 6), 0);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(store_blobs_verify_file(b, good, fd), 0);
        assert_int_equal(store_blobs_verify_file(b, good, fd), 0);   /* remembered */
        assert_int_equal(store_blobs_verify_file(b, bad, fd), -EIO); /* another digest */
        assert_int_equal(store_blobs_verify_file(b, "sha256:xyz", fd), -EINVAL);
        close(fd);

        /* Same size, one byte changed: its ctime moved, so it is read again. */
        usleep(10000);
        assert_int_equal(write_file(path, "hellO\n", 6), 0);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(store_blobs_verify_file(b, good, fd), -EIO);
        close(fd);

        /* The empty blob. */
        assert_int_equal(write_file(path, "", 0), 0);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_int_equal(store_blobs_verify_file(b, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", fd), 0);
        assert_int_equal(store_blobs_verify_file(b, good, fd), -EIO);
        close(fd);

        store_blobs_free(b);
        unlink(path);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_in_order),
                cmocka_unit_test(test_out_of_order),
                cmocka_unit_test(test_random_access),
                cmocka_unit_test(test_verify_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
