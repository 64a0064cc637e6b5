/* FNV-1a, 64 bits: the one non-cryptographic hash of ckptfs (inode
 * numbers, hash tables, change detection). Stable across versions: inode
 * numbers derived from it must not change between releases. Header only. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FNV1A_INIT 0xcbf29ce484222325ULL
#define FNV1A_PRIME 0x100000001b3ULL

/* Continues hash h over buf[0..len). */
static inline uint64_t fnv1a(uint64_t h, const void *buf, size_t len) {
        const unsigned char *p = buf;
        for (size_t i = 0; i < len; i++)
                h = (h ^ p[i]) * FNV1A_PRIME;
        return h;
}

/* Continues hash h over the NUL-terminated s (NULL: nothing). */
static inline uint64_t fnv1a_str(uint64_t h, const char *s) {
        for (; s && *s; s++)
                h = (h ^ (unsigned char) *s) * FNV1A_PRIME;
        return h;
}
