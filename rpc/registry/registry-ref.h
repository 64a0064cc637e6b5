/* References to an OCI registry, REGISTRY/REPO[:TAG|@DIGEST], and the
 * control lines that name one. Pure: no I/O. 0 or -errno (-EINVAL for a
 * malformed reference, with a message for the user in ret_msg when asked). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "digest.h"

#define REGISTRY_HOST_MAX 256
#define REGISTRY_REPO_MAX 256
#define REGISTRY_TAG_MAX 129

typedef struct registry_ref {
        char host[REGISTRY_HOST_MAX];   /* "host", "host:port", "[::1]:5000" */
        char repo[REGISTRY_REPO_MAX];   /* "ck/test" */
        char tag[REGISTRY_TAG_MAX];     /* "" when by digest only */
        char digest[DIGEST_MAX];        /* "" when by tag only */
        bool loopback;                  /* localhost, 127.0.0.0/8, ::1 */
} registry_ref;

/* Parses "HOST/REPO[:TAG][@sha256:HEX]". The host is the part before the
 * first '/', and must be a registry host (has a '.' or a ':' or is
 * "localhost"): there is no default registry. Neither tag nor digest:
 * tag "latest". */
int registry_ref_parse(const char *s, registry_ref *ret);

/* true for localhost, 127.x.y.z and [::1] (with or without a port). */
bool registry_host_is_loopback(const char *host);

/* A control line "REF [name=NAME] [insecure]" (one line, trailing newline
 * allowed). allow_name false: name= is refused. *ret_name is malloc'd or
 * NULL. On -EINVAL, *ret_msg (malloc'd) says why. */
int registry_line_parse(const char *buf, size_t len, bool allow_name, registry_ref *ret_ref, char **ret_name,
                        bool *ret_insecure, char **ret_msg);
