/* Image names and tags: the OCI/distribution reference grammar, by hand
 * (small, and no regex engine surprises on hostile input). */
#include "names.h"

#include "vocab.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128

static bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
static bool is_word(char c) { return is_alnum(c) || c == '_'; }
static bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* [a-z0-9]+ ( ( [._] | __ | -+ ) [a-z0-9]+ )* over s[0..n) */
static bool path_component_valid(const char *s, size_t n) {
        size_t i = 0;
        if (n == 0 || !is_lower_alnum(s[0]))
                return false;
        while (i < n) {
                while (i < n && is_lower_alnum(s[i]))
                        i++;
                if (i == n)
                        return true;
                /* a separator, then at least one alphanumeric */
                if (s[i] == '.')
                        i++;
                else if (s[i] == '_')
                        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
                else if (s[i] == '-')
                        while (i < n && s[i] == '-')
                                i++;
                else
                        return false;
                if (i >= n || !is_lower_alnum(s[i]))
                        return false;
        }
        return true;
}

/* domain-component ( '.' domain-component )* ( ':' [0-9]+ )? */
static bool domain_valid(const char *s, size_t n) {
        const char *colon = memchr(s, ':', n);
        size_t host = colon ? (size_t) (colon - s) : n;
        if (colon) {
                size_t port = n - host - 1;
                if (port == 0)
                        return false;
                for (size_t i = host + 1; i < n; i++)
                        if (s[i] < '0' || s[i] > '9')
                                return false;
        }
        size_t start = 0;
        for (size_t i = 0; i <= host; i++) {
                if (i < host && s[i] != '.')
                        continue;
                size_t len = i - start;
                if (len == 0 || !is_alnum(s[start]) || !is_alnum(s[i - 1]))
                        return false;
                for (size_t k = start; k < i; k++)
                        if (!is_alnum(s[k]) && s[k] != '-')
                                return false;
                start = i + 1;
        }
        return true;
}

static bool tag_valid_n(const char *s, size_t n, bool allow_colon) {
        if (n == 0 || n > TAG_MAX_LEN || !is_word(s[0]))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!is_word(s[i]) && s[i] != '.' && s[i] != '-' && !(allow_colon && s[i] == ':'))
                        return false;
        return true;
}

bool ckpt_tag_valid(const char *tag) {
        return tag && tag_valid_n(tag, strlen(tag), false);
}

/* algorithm ':' hex{32,}; algorithm = [A-Za-z][A-Za-z0-9]* ([+._-][A-Za-z][A-Za-z0-9]*)*;
 * sha256 needs exactly 64 hex digits. */
static bool digest_valid_n(const char *s, size_t n) {
        const char *colon = memchr(s, ':', n);
        if (!colon)
                return false;
        size_t alg = (size_t) (colon - s), enc = n - alg - 1;
        bool need_letter = true;
        for (size_t i = 0; i < alg; i++) {
                char c = s[i];
                bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
                if (need_letter) {
                        if (!letter)
                                return false;
                        need_letter = false;
                } else if (c == '+' || c == '.' || c == '_' || c == '-')
                        need_letter = true;
                else if (!is_alnum(c))
                        return false;
        }
        if (alg == 0 || need_letter || enc < 32)
                return false;
        for (size_t i = alg + 1; i < n; i++)
                if (!is_hex(s[i]))
                        return false;
        if (alg == 6 && memcmp(s, "sha256", 6) == 0)
                return enc == 64;
        return true;
}

#define FAIL(msg)                       \
        do {                            \
                if (why)                \
                        *why = (msg);   \
                return false;           \
        } while (0)

bool ckpt_ref_valid(const char *ref, const char **why) {
        if (!ref || !*ref)
                FAIL("the name is empty");
        size_t n = strlen(ref);
        const char *at = memchr(ref, '@', n);
        if (at) {
                if (!digest_valid_n(at + 1, n - (size_t) (at - ref) - 1))
                        FAIL("the digest after '@' is not valid (e.g. sha256:<64 hex digits>)");
                n = (size_t) (at - ref);
        }
        /* The tag starts at the first ':' after the last '/'. */
        size_t last_slash = 0;
        bool have_slash = false;
        for (size_t i = 0; i < n; i++)
                if (ref[i] == '/') {
                        last_slash = i;
                        have_slash = true;
                }
        const char *colon = memchr(ref + (have_slash ? last_slash : 0), ':', n - (have_slash ? last_slash : 0));
        size_t name_len = n;
        if (colon) {
                name_len = (size_t) (colon - ref);
                if (!tag_valid_n(colon + 1, n - name_len - 1, true))
                        FAIL("the tag is not valid (letters, digits, '_', '.', '-', ':'; at most 128, not starting with '.' or '-')");
        }
        if (name_len == 0)
                FAIL("the name before the tag is empty");
        if (name_len > NAME_MAX_LEN)
                FAIL("the name is longer than 255 characters");

        /* Components: the first may be a domain if more follow. */
        size_t start = 0, idx = 0;
        for (size_t i = 0; i <= name_len; i++) {
                if (i < name_len && ref[i] != '/')
                        continue;
                const char *comp = ref + start;
                size_t len = i - start;
                bool ok = path_component_valid(comp, len) ||
                          (idx == 0 && i < name_len && domain_valid(comp, len));
                if (!ok)
                        FAIL("a name component is not valid (lowercase letters and digits, separated by '.', '_', '__' or '-')");
                start = i + 1;
                idx++;
        }
        return true;
}

int ckpt_default_name(const char *container_id, time_t t, char **ret) {
        struct tm tm;
        if (!localtime_r(&t, &tm))
                return -EINVAL;
        char stamp[64];
        /* containerd's checkpointDateFormat "01-02-2006-15:04:05" */
        if (strftime(stamp, sizeof(stamp), "%m-%d-%Y-%H:%M:%S", &tm) == 0)
                return -EINVAL;
        return ckpt_standard_name(container_id, stamp, ret);
}

int ckpt_standard_name(const char *container_id, const char *tag, char **ret) {
        char *s;
        if (asprintf(&s, CKPT_NAME_PREFIX "%s:%s", container_id, tag) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

size_t ckpt_name_container(const char *name, const char **ret_tag) {
        size_t plen = strlen(CKPT_NAME_PREFIX);
        if (strncmp(name, CKPT_NAME_PREFIX, plen) != 0 || strchr(name + plen, '/'))
                return 0;
        /* The first colon: ids have none, the default tags do. */
        const char *colon = strchr(name + plen, ':');
        if (!colon || colon == name + plen)
                return 0;
        *ret_tag = colon + 1;
        return (size_t) (colon - name - plen);
}

bool ckpt_tag_is_default(const char *tag) {
        static const char shape[] = "00-00-0000-00:00:00";
        if (!tag || strlen(tag) != sizeof(shape) - 1)
                return false;
        for (size_t i = 0; shape[i]; i++)
                if (shape[i] == '0' ? !(tag[i] >= '0' && tag[i] <= '9') : tag[i] != shape[i])
                        return false;
        return true;
}

bool ckpt_component_valid(const char *s, size_t n) {
        if (n == 0 || n > CKPT_COMPONENT_MAX || memchr(s, '/', n) || memchr(s, '\0', n))
                return false;
        return !(s[0] == '.' && (n == 1 || (n == 2 && s[1] == '.')));
}

bool ckpt_name_showable(const char *name, const char **why) {
        if (!name || !*name)
                FAIL("the name is empty");
        for (const char *p = name;;) {
                size_t n = strcspn(p, "/");
                if (n == 0)
                        FAIL("a part between '/' is empty");
                if (n > CKPT_COMPONENT_MAX)
                        FAIL("a part between '/' is longer than 255 bytes");
                if (!ckpt_component_valid(p, n))
                        FAIL("a part between '/' is '.' or '..'");
                if (!p[n])
                        return true;
                p += n + 1;
        }
}
