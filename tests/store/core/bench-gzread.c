/* SPDX-License-Identifier: MIT */
/*
 * bench-gzread: how fast can one small member at the end of a large tar.gz
 * be read through the store's indexes, compared with full decompression?
 *
 *   bench-gzread [--mib N] [--dir DIR] [--keep]
 *
 * Builds an N MiB (default 256) tar of random-ish files whose last member is
 * 4 KiB, gzips it, indexes it (gzindex + tarindex through the gzip reader),
 * stores the indexes in a store_db, then times "look the member up in the
 * db, load the gzip index (its points; the read loads one window), read
 * 4 KiB" against inflating the whole blob in process and against
 * `tar -xzOf BLOB MEMBER`. Prints the numbers; exits
 * non-zero only on errors, or if the read returns wrong bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "helpers.h"
#include "cleanup.h"
#include "db.h"
#include "gzindex-internal.h"
#include "reader.h"
#include "tarindex.h"

#define MEMBER "last/member-4k.bin"
#define RUNS 21

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

static void die(const char *what, int k) {
        fprintf(stderr, "bench-gzread: %s: %s\n", what, strerror(k < 0 ? -k : k));
        exit(1);
}

static void gz_put(gzFile gz, struct th_buf *b) {
        if (b->len && gzwrite(gz, b->p, (unsigned) b->len) != (int) b->len)
                die("gzwrite", EIO);
        b->len = 0;
}

/* Writes the tar.gz; returns the number of members and the last member's data. */
static size_t make_blob(const char *path, uint64_t total, uint8_t *last) {
        gzFile gz = gzopen(path, "wb6");
        struct th_buf b = {};
        uint8_t *data = malloc(4 << 20);
        uint64_t seed = 0xc0ffee, written = 0;
        size_t n = 0;

        if (!gz || !data)
                die("gzopen", errno ?: ENOMEM);
        while (written + 4096 + 3 * 512 < total) {
                char name[64];
                uint64_t left = total - written - 4096 - 3 * 512;
                size_t size = 1024 + th_rand(&seed) % (2 << 20);

                if (size + 512 + 511 > left)
                        size = left > 1024 ? (size_t) (left - 1024) & ~(size_t) 511 : 0;
                if (size == 0)
                        break;
                th_fill(&seed, data, size, 30);
                snprintf(name, sizeof(name), "dir%02zu/file-%06zu.bin", n % 64, n);
                th_tar_file(&b, name, data, size);
                gz_put(gz, &b);
                written += 512 + ((size + 511) & ~(size_t) 511);
                n++;
        }
        th_fill(&seed, last, 4096, 30);
        th_tar_file(&b, MEMBER, last, 4096);
        th_tar_end(&b);
        gz_put(gz, &b);
        if (gzclose(gz) != Z_OK)
                die("gzclose", EIO);
        th_buf_free(&b);
        free(data);
        return n + 1;
}

static double inflate_all_ms(const char *path, uint64_t *ret_usize) {
        gzFile gz = gzopen(path, "rb");
        static uint8_t buf[1 << 20];
        uint64_t total = 0;
        double t0 = now_ms();
        int n;

        if (!gz)
                die("gzopen", errno ?: EIO);
        gzbuffer(gz, 1 << 20);
        while ((n = gzread(gz, buf, sizeof(buf))) > 0)
                total += (uint64_t) n;
        gzclose(gz);
        *ret_usize = total;
        return now_ms() - t0;
}

static double tar_xzOf_ms(const char *path) {
        double t0 = now_ms();
        pid_t pid = fork();
        int status;

        if (pid < 0)
                die("fork", errno);
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);
                dup2(null, 1);
                execlp("tar", "tar", "-xzOf", path, MEMBER, (char *) NULL);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                die("tar -xzOf", EIO);
        return now_ms() - t0;
}

static void drop_cache(const char *path) {
        int fd = open(path, O_RDONLY);
        if (fd >= 0) {
                (void) posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
                close(fd);
        }
}

static int count_window(void *userdata, uint32_t point, const void *data, size_t len) {
        (void) point;
        (void) data;
        *(size_t *) userdata += len;
        return 0;
}

/* Per-step times of the last lookup_and_read_ms() call. */
static double step_open, step_find, step_load;

/* One cold lookup: open the db, find the member (in the tar index loaded
 * from it), load the gzip index, read. */
static double lookup_and_read_ms(const char *dbpath, const char *blob, const uint8_t *want,
                                 double *ret_read_only_ms) {
        _cleanup_store_db_ struct store_db *db = NULL;
        _cleanup_store_reader_ struct store_reader *src = NULL;
        _cleanup_gzindex_ struct gzindex *idx = NULL;
        _cleanup_tar_index_ struct tar_index *tar = NULL;
        const struct tar_member *m;
        uint8_t buf[4096];
        double t0 = now_ms(), t1;
        int k;

        k = store_db_open(dbpath, &db);
        if (k < 0)
                die("store_db_open", k);
        step_open = now_ms() - t0;
        k = store_db_get_tar_members(db, "sha256:bench", &tar);
        if (k < 0)
                die("load tar index", k);
        m = tar_index_find(tar, MEMBER);
        if (!m)
                die("find member", ENOENT);
        step_find = now_ms() - t0 - step_open;
        k = store_db_get_gzindex(db, "sha256:bench", &idx);
        if (k < 0)
                die("get gzindex", k);
        step_load = now_ms() - t0 - step_open - step_find;
        k = th_reader_open(blob, &src);
        if (k < 0)
                die("open blob", k);
        t1 = now_ms();
        if (gzindex_read(idx, src, m->data_offset, buf, sizeof(buf)) != (ssize_t) sizeof(buf))
                die("gzindex_read", EIO);
        *ret_read_only_ms = now_ms() - t1;
        if (memcmp(buf, want, sizeof(buf)) != 0) {
                fprintf(stderr, "bench-gzread: WRONG BYTES\n");
                exit(2);
        }
        return now_ms() - t0;
}

int main(int argc, char **argv) {
        _cleanup_free_ char *dir = NULL, *blob = NULL, *dbpath = NULL;
        _cleanup_store_reader_ struct store_reader *src = NULL, *u = NULL;
        _cleanup_tar_index_ struct tar_index *tidx = NULL;
        struct gzindex *idx = NULL;
        _cleanup_store_db_ struct store_db *db = NULL;
        _cleanup_free_ void *ser = NULL;
        uint64_t mib = 256, usize;
        bool keep = false;
        uint8_t last[4096];
        double t, t_gz, t_tar, full, tarx[5], warm[RUNS], warm_read[RUNS], cold[5], cold_read[5];
        double s_open[RUNS], s_find[RUNS], s_load[RUNS];
        size_t n_members, ser_len, win_bytes = 0;
        int k;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--mib") == 0 && i + 1 < argc)
                        mib = strtoull(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
                        dir = strdup(argv[++i]);
                else if (strcmp(argv[i], "--keep") == 0)
                        keep = true;
                else {
                        fprintf(stderr, "usage: %s [--mib N] [--dir DIR] [--keep]\n", argv[0]);
                        return 1;
                }
        }
        if (!dir)
                dir = th_mkdtemp();
        else if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                die(dir, errno);
        if (asprintf(&blob, "%s/blob.tar.gz", dir) < 0 || asprintf(&dbpath, "%s/db/ckptfs.db", dir) < 0)
                die("asprintf", ENOMEM);

        t = now_ms();
        n_members = make_blob(blob, mib << 20, last);
        printf("generated %s: %" PRIu64 " MiB tar, %zu members, in %.0f ms\n", blob, mib, n_members, now_ms() - t);

        k = th_reader_open(blob, &src);
        if (k < 0)
                die("open", k);
        t = now_ms();
        k = gzindex_build(src, 0, &idx);
        if (k < 0)
                die("gzindex_build", k);
        t_gz = now_ms() - t;
        k = gzindex_reader_new(idx, src, GZREADER_OWN_INDEX, &u);
        if (k < 0)
                die("gzindex_reader_new", k);
        t = now_ms();
        k = tarindex_build(u, &tidx);
        if (k < 0)
                die("tarindex_build", k);
        t_tar = now_ms() - t;
        k = gzindex_serialize(idx, count_window, &win_bytes, &ser, &ser_len);
        if (k < 0)
                die("serialize", k);
        printf("compressed %.1f MiB (ratio %.2f); %zu access points; serialised index %.1f KiB "
               "+ windows %.0f KiB\n",
               (double) src->size / 1048576.0, (double) gzindex_usize(idx) / (double) src->size,
               gzindex_n_points(idx), (double) ser_len / 1024.0, (double) win_bytes / 1024.0);
        printf("indexing: gzindex_build %.0f ms, tarindex over the gzip reader %.0f ms (%zu members)\n",
               t_gz, t_tar, tidx->n);

        t = now_ms();
        k = store_db_open(dbpath, &db);
        if (k < 0)
                die("store_db_open", k);
        k = store_db_put_tar_members(db, "sha256:bench", tidx->members, tidx->n);
        if (k < 0)
                die("put_tar_members", k);
        k = store_db_put_gzindex(db, "sha256:bench", idx);
        if (k < 0)
                die("put_gzindex", k);
        store_db_close(TAKE_PTR(db));
        printf("storing both indexes in sqlite: %.0f ms\n", now_ms() - t);
        store_reader_free(TAKE_PTR(u));

        for (int i = 0; i < RUNS; i++) {
                warm[i] = lookup_and_read_ms(dbpath, blob, last, &warm_read[i]);
                s_open[i] = step_open;
                s_find[i] = step_find;
                s_load[i] = step_load;
        }
        for (int i = 0; i < 5; i++) {
                drop_cache(blob);
                cold[i] = lookup_and_read_ms(dbpath, blob, last, &cold_read[i]);
        }
        full = inflate_all_ms(blob, &usize);
        if (usize != mib << 20 && usize < (mib << 20) - 4096)
                die("inflate size", EIO);
        for (int i = 0; i < 5; i++)
                tarx[i] = tar_xzOf_ms(blob);
        qsort(warm, RUNS, sizeof(double), cmp_double);
        qsort(warm_read, RUNS, sizeof(double), cmp_double);
        qsort(cold, 5, sizeof(double), cmp_double);
        qsort(cold_read, 5, sizeof(double), cmp_double);
        qsort(tarx, 5, sizeof(double), cmp_double);
        qsort(s_open, RUNS, sizeof(double), cmp_double);
        qsort(s_find, RUNS, sizeof(double), cmp_double);
        qsort(s_load, RUNS, sizeof(double), cmp_double);

        printf("\nread the 4 KiB member at the end (median of %d, warm page cache):\n", RUNS);
        printf("  db open + lookup + load gz index + read: %7.2f ms (min %.2f, max %.2f)\n", warm[RUNS / 2],
               warm[0], warm[RUNS - 1]);
        printf("    of which store_db_open (incl. quick_check): %.2f ms, find member %.2f ms,\n"
               "    load gzip index %.2f ms\n", s_open[RUNS / 2], s_find[RUNS / 2], s_load[RUNS / 2]);
        printf("  gzindex_read alone:                      %7.2f ms\n", warm_read[RUNS / 2]);
        printf("  same after POSIX_FADV_DONTNEED on blob:  %7.2f ms (read alone %.2f ms)\n", cold[2],
               cold_read[2]);
        printf("full decompression:\n");
        printf("  zlib inflate of the whole blob:          %7.0f ms\n", full);
        printf("  tar -xzOf BLOB MEMBER (median of 5):     %7.0f ms\n", tarx[2]);
        printf("speedup: %.0fx vs tar -xzOf, %.0fx vs in-process inflate (goal: <= 20 ms and >= 10x)\n",
               tarx[2] / warm[RUNS / 2], full / warm[RUNS / 2]);

        if (!keep)
                th_rm_rf(dir);
        return 0;
}
