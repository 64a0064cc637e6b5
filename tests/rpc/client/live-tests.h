/* Shared between the files of test-rpc-live (see test-rpc-live.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc.h"

static inline void client_freep(rpc_client **c) { if (*c) rpc_client_free(*c); }

/* The main test env and what the tests share. Set up by test-rpc-live.c's
 * group setup; tests run one at a time on the main thread. */
typedef struct live_env {
        const char *addr, *ns, *image, *dir;
        char prefix[32];
        char id_run[64], id_paused[64], id_stopped[64], id_notask[64];
        rpc_client *c;
        /* Blob A: written by test_content_write_buffer, read by later tests. */
        uint8_t *blob;
        size_t blob_len;
        char blob_digest[72];
        bool blob_written;
        uint64_t seed;
} live_env;
extern live_env L;

/* Per-test fixtures: arm / disarm the alarm(2) guard against hangs. */
int live_arm(void **state);
int live_disarm(void **state);

/* `ctr ARGS` (shell text) against the main env; exit status or -errno. */
int ctr(char **ret_out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Options of a call in the test namespace with a 30 s deadline. */
rpc_opts opts(void);

/* live-content.c */
/* Content.Write of a buffer (rpc_content_ingest from memory); *digest (may
 * be NULL) gets the digest. */
int live_write_buffer(rpc_client *c, const rpc_opts *o, const char *ref, const uint8_t *data, size_t len,
                      const char *const *labels, size_t n_labels, char digest[72], rpc_error *err);
void test_content_write_buffer(void **state);
void test_content_write_pull(void **state);
void test_content_write_existing(void **state);
void test_content_write_edges(void **state);
void test_content_lease(void **state);
void test_content_read_ranges(void **state);
void test_content_read_errors(void **state);
void test_content_read_cb_error(void **state);
void test_deadline(void **state);
void test_concurrent_calls(void **state);

/* live-events.c */
void test_events_image_create(void **state);
void test_events_cancel(void **state);

/* live-fault.c: runs the fault group; returns the number of failures. */
int live_fault_run(void);
