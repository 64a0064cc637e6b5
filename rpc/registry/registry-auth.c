#include "registry-auth.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Copies one parameter value at *p (quoted or bare) into out; advances *p. */
static void take_value(const char **p, char *out, size_t size) {
        const char *s = *p;
        size_t n = 0;
        if (*s == '"') {
                s++;
                while (*s && *s != '"') {
                        if (*s == '\\' && s[1])
                                s++;
                        if (n + 1 < size)
                                out[n++] = *s;
                        s++;
                }
                if (*s == '"')
                        s++;
        } else
                while (*s && *s != ',' && *s != ' ' && *s != '\t') {
                        if (n + 1 < size)
                                out[n++] = *s;
                        s++;
                }
        out[n] = 0;
        *p = s;
}

int registry_challenge_parse(const char *value, registry_challenge *ret) {
        registry_challenge c = { 0 };
        const char *p = value + strspn(value, " \t");
        size_t wl = strcspn(p, " \t");
        if (wl == 5 && strncasecmp(p, "basic", 5) == 0)
                c.scheme = REGISTRY_AUTH_BASIC;
        else if (wl == 6 && strncasecmp(p, "bearer", 6) == 0)
                c.scheme = REGISTRY_AUTH_BEARER;
        else
                return -EINVAL;
        p += wl;
        while (*p) {
                p += strspn(p, " \t,");
                size_t kl = strcspn(p, "= \t,");
                if (kl == 0 || p[kl] != '=') {
                        p += kl ? kl : (*p ? 1 : 0);
                        continue;
                }
                const char *key = p;
                p += kl + 1;
                char tmp[1024];
                char *out = tmp;
                size_t size = sizeof(tmp);
                if (kl == 5 && strncasecmp(key, "realm", 5) == 0)
                        out = c.realm, size = sizeof(c.realm);
                else if (kl == 7 && strncasecmp(key, "service", 7) == 0)
                        out = c.service, size = sizeof(c.service);
                else if (kl == 5 && strncasecmp(key, "scope", 5) == 0)
                        out = c.scope, size = sizeof(c.scope);
                take_value(&p, out, size);
        }
        if (c.scheme == REGISTRY_AUTH_BEARER && !c.realm[0])
                return -EINVAL;
        *ret = c;
        return 0;
}

/* "https://host/v1/" -> "host"; a key without a scheme stays as it is. */
static bool key_names_host(const char *key, const char *host) {
        const char *k = key;
        if (strncmp(k, "https://", 8) == 0)
                k += 8;
        else if (strncmp(k, "http://", 7) == 0)
                k += 7;
        size_t hl = strlen(host);
        return strncmp(k, host, hl) == 0 && (k[hl] == 0 || k[hl] == '/');
}

int registry_auth_lookup(const char *json, size_t len, const char *host, char **ret_auth) {
        json_t *root = json_loadb(json, len, 0, NULL);
        if (!json_is_object(root)) {
                json_decref(root);
                return -EBADMSG;
        }
        json_t *auths = json_object_get(root, "auths");
        int r = -ENOENT;
        const char *key;
        json_t *v;
        json_object_foreach(auths, key, v) {
                const char *a = json_string_value(json_object_get(v, "auth"));
                if (!a || !*a || !key_names_host(key, host))
                        continue;
                char *copy = strdup(a);
                r = copy ? 0 : -ENOMEM;
                if (copy)
                        *ret_auth = copy;
                break;
        }
        json_decref(root);
        return r;
}
