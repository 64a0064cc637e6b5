#include "registry-ref.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

static bool repo_char_ok(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '/';
}

static bool tag_ok(const char *t) {
        size_t n = strlen(t);
        if (n == 0 || n >= REGISTRY_TAG_MAX || t[0] == '.' || t[0] == '-')
                return false;
        for (const char *p = t; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                      *p == '.' || *p == '-'))
                        return false;
        return true;
}

static bool repo_ok(const char *r) {
        size_t n = strlen(r);
        if (n == 0 || n >= REGISTRY_REPO_MAX || r[0] == '/' || r[n - 1] == '/' || strstr(r, "//"))
                return false;
        for (const char *p = r; *p; p++)
                if (!repo_char_ok(*p))
                        return false;
        return true;
}

bool registry_host_is_loopback(const char *host) {
        char h[REGISTRY_HOST_MAX];
        snprintf(h, sizeof(h), "%s", host);
        if (h[0] == '[') {
                char *e = strchr(h, ']');
                if (!e)
                        return false;
                *e = 0;
                return strcmp(h + 1, "::1") == 0;
        }
        char *colon = strchr(h, ':');
        if (colon)
                *colon = 0;
        if (strcmp(h, "localhost") == 0)
                return true;
        unsigned a, b, c, d;
        char extra;
        return sscanf(h, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) == 4 && a == 127 && b < 256 && c < 256 && d < 256;
}

static bool host_ok(const char *h) {
        if (!*h || strlen(h) >= REGISTRY_HOST_MAX)
                return false;
        if (!strchr(h, '.') && !strchr(h, ':') && strcmp(h, "localhost") != 0)
                return false;
        for (const char *p = h; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
                      *p == '-' || *p == ':' || *p == '[' || *p == ']'))
                        return false;
        return true;
}

int registry_ref_parse(const char *s, registry_ref *ret) {
        registry_ref ref = { 0 };
        const char *slash = strchr(s, '/');
        if (!slash || (size_t) (slash - s) >= sizeof(ref.host))
                return -EINVAL;
        memcpy(ref.host, s, (size_t) (slash - s));
        if (!host_ok(ref.host))
                return -EINVAL;
        char rest[REGISTRY_REPO_MAX + REGISTRY_TAG_MAX + DIGEST_MAX + 2];
        if (strlen(slash + 1) >= sizeof(rest))
                return -EINVAL;
        snprintf(rest, sizeof(rest), "%s", slash + 1);
        char *at = strchr(rest, '@');
        if (at) {
                *at = 0;
                if (!digest_valid(at + 1))
                        return -EINVAL;
                snprintf(ref.digest, sizeof(ref.digest), "%s", at + 1);
        }
        /* a ':' after the last '/' starts the tag */
        char *last = strrchr(rest, '/'), *colon = strrchr(last ? last : rest, ':');
        if (colon) {
                *colon = 0;
                if (!tag_ok(colon + 1))
                        return -EINVAL;
                snprintf(ref.tag, sizeof(ref.tag), "%s", colon + 1);
        } else if (!at)
                snprintf(ref.tag, sizeof(ref.tag), "latest");
        if (!repo_ok(rest))
                return -EINVAL;
        snprintf(ref.repo, sizeof(ref.repo), "%s", rest);
        ref.loopback = registry_host_is_loopback(ref.host);
        *ret = ref;
        return 0;
}

static int fail(char **ret_msg, const char *what, const char *arg) {
        if (ret_msg && asprintf(ret_msg, "%s%s", what, arg) < 0)
                *ret_msg = NULL;
        return -EINVAL;
}

int registry_line_parse(const char *buf, size_t len, bool allow_name, registry_ref *ret_ref, char **ret_name,
                        bool *ret_insecure, char **ret_msg) {
        _cleanup_free_ char *line = strndup(buf, len);
        if (!line)
                return -ENOMEM;
        line[strcspn(line, "\n")] = 0;
        registry_ref ref;
        _cleanup_free_ char *name = NULL;
        bool insecure = false, have_ref = false;
        char *save = NULL;
        for (char *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                if (strcmp(w, "insecure") == 0)
                        insecure = true;
                else if (strncmp(w, "name=", 5) == 0) {
                        if (!allow_name || !w[5] || name)
                                return fail(ret_msg, "invalid argument: ", w);
                        if (!(name = strdup(w + 5)))
                                return -ENOMEM;
                } else if (!have_ref) {
                        if (registry_ref_parse(w, &ref) < 0)
                                return fail(ret_msg, "invalid reference (want REGISTRY/REPO:TAG): ", w);
                        have_ref = true;
                } else
                        return fail(ret_msg, "unknown argument: ", w);
        }
        if (!have_ref)
                return fail(ret_msg, "no reference given (want REGISTRY/REPO:TAG)", "");
        *ret_ref = ref;
        *ret_name = TAKE_PTR(name);
        *ret_insecure = insecure;
        return 0;
}
