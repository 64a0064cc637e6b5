/* SPDX-License-Identifier: MIT */
#pragma once

/* Test helpers for the store suite: temp dirs, an in-memory tar writer,
 * gzip compression, deterministic pseudo-random data. Tests only: these
 * abort on allocation failure instead of returning errors. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reader.h"

/* ---- temp dirs and files ---- */

/* mkdtemp under $TMPDIR (or /tmp); returns a malloc()ed path. */
char *th_mkdtemp(void);
/* rm -rf path (no symlinks followed). */
void th_rm_rf(const char *path);
/* Writes/reads a whole file; return 0 or -errno. */
int th_write_file(const char *path, const void *data, size_t len);
int th_read_file(const char *path, void **ret_data, size_t *ret_len);

/* ---- pseudo-random data (xorshift, deterministic per seed) ---- */

uint64_t th_rand(uint64_t *state);
/* Fills buf with data that compresses somewhat: runs of words mixed with
 * random bytes (ratio about 1/compressibility random). */
void th_fill(uint64_t *state, uint8_t *buf, size_t len, unsigned random_percent);

/* ---- growable byte buffer ---- */

struct th_buf {
        uint8_t *p;
        size_t len, cap;
};
void th_buf_put(struct th_buf *b, const void *data, size_t len);
void th_buf_zero(struct th_buf *b, size_t len);
void th_buf_free(struct th_buf *b);

/* ---- tar writer ---- */

struct th_hdr {
        const char *name;       /* written verbatim into the 100-byte name field */
        const char *prefix;     /* ustar prefix, or NULL */
        const char *linkname;
        char type;              /* typeflag, '0' if 0 */
        unsigned mode;          /* 0644 if 0 */
        uint64_t uid, gid, size;
        int64_t mtime;
        const char *uname, *gname;
        bool gnu_magic;         /* "ustar  \0" instead of "ustar\0" "00" */
        bool v7;                /* no magic at all */
        bool b256_size, b256_uid, b256_mtime;
        uint32_t devmajor, devminor;
        int checksum_delta;     /* added to the correct checksum (corruption tests) */
};

/* Appends a header block built from h. */
void th_tar_header(struct th_buf *tar, const struct th_hdr *h);
/* Appends data padded to 512. */
void th_tar_data(struct th_buf *tar, const void *data, size_t len);
/* Appends a regular file member (ustar). */
void th_tar_file(struct th_buf *tar, const char *name, const void *data, size_t len);
/* Appends an 'x' (or 'g' if global) header carrying these key/value pairs
 * (NULL-terminated list: key, value, key, value, ..., NULL); value length is
 * strlen unless given as vlens (may be NULL). */
void th_tar_pax(struct th_buf *tar, bool global, const char *const *kv, const size_t *vlens);
/* Appends a GNU 'L' or 'K' long name extension. */
void th_tar_gnu_long(struct th_buf *tar, char type, const char *name);
/* Two zero blocks. */
void th_tar_end(struct th_buf *tar);
/* Recomputes the checksum of the header block at off. */
void th_tar_fix_checksum(uint8_t *blk);

/* ---- gzip ---- */

/* Appends one gzip member of data compressed at level. */
void th_gzip(struct th_buf *out, const void *data, size_t len, int level);

/* Runs a shell command; returns its exit status or -1. */
int th_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- a reader over memory ---- */

/* A store_reader over data[0..size). If free_data is non-NULL, the reader
 * owns data and calls free_data(data) when freed; otherwise data must
 * outlive the reader. Returns 0, -EINVAL or -ENOMEM. */
int th_reader_from_memory(const void *data, size_t size, void (*free_data)(void *),
                          struct store_reader **ret_reader);
/* Opens path read-only as a store_reader_from_fd() reader. */
int th_reader_open(const char *path, struct store_reader **ret_reader);
