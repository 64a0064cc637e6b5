/* Registry authentication, the pure parts: a WWW-Authenticate challenge
 * and the credentials of a docker-style config.json. Credentials are
 * secrets: nothing here logs them, and callers must not either. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum registry_scheme {
        REGISTRY_AUTH_NONE,
        REGISTRY_AUTH_BASIC,
        REGISTRY_AUTH_BEARER,
} registry_scheme;

typedef struct registry_challenge {
        registry_scheme scheme;
        char realm[1024];
        char service[256];
        char scope[512];
} registry_challenge;

/* Parses one WWW-Authenticate value, e.g.
 *   Bearer realm="https://a/token",service="reg",scope="repository:x:pull"
 *   Basic realm="Registry"
 * Parameters may be quoted (with \-escapes) or bare, in any order; unknown
 * ones are skipped. -EINVAL for an unknown scheme or a Bearer without realm. */
int registry_challenge_parse(const char *value, registry_challenge *ret);

/* The "auth" value (base64 of "user:password", as is: it is the Basic
 * credential) for registry `host` in config.json text `json`: the key
 * "host", "https://host", "http://host" or any of them with a path
 * ("https://host/v1/"). Returns 0 and a malloc'd copy, -ENOENT when there is
 * none, -EBADMSG for text that is no such JSON. */
int registry_auth_lookup(const char *json, size_t len, const char *host, char **ret_auth);
