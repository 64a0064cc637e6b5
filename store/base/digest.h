/* Content digests ("sha256:<64 lowercase hex>"), the only algorithm
 * containerd 1.6 writes. Pure functions, thread-safe. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "sha256:" + 64 hex + NUL, rounded up. */
#define DIGEST_MAX 72
#define DIGEST_PREFIX "sha256:"

/* True when `d` is "sha256:" and 64 lowercase hex digits. */
bool digest_valid(const char *d);
/* The 32 bytes of a valid digest; -EINVAL for anything else. */
int digest_parse(const char *d, uint8_t ret_raw[32]);
/* "sha256:<hex>" of 32 raw bytes, into buf (>= DIGEST_MAX bytes). */
void digest_format(const uint8_t raw[32], char buf[DIGEST_MAX]);
/* The sha256 digest of buf[0..len), into out (>= DIGEST_MAX bytes);
 * -ENOMEM if OpenSSL cannot allocate. */
int digest_of(const void *buf, size_t len, char out[DIGEST_MAX]);
/* "sha256:<hex>" into out (>= DIGEST_MAX bytes) when that is a valid
 * digest (hex: 64 lowercase hex digits); -EINVAL for anything else. */
int digest_from_hex(const char *hex, char out[DIGEST_MAX]);
