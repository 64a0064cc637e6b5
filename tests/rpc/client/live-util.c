#include "live-util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *shell_quote(const char *s) {
        size_t n = 3;
        for (const char *p = s; *p; p++)
                n += *p == '\'' ? 4 : 1;
        char *q = malloc(n), *o = q;
        if (!q)
                return NULL;
        *o++ = '\'';
        for (const char *p = s; *p; p++) {
                if (*p == '\'') {
                        memcpy(o, "'\\''", 4);
                        o += 4;
                } else
                        *o++ = *p;
        }
        *o++ = '\'';
        *o = '\0';
        return q;
}

static int vsh_capture(char **ret_out, const char *fmt, va_list ap) {
        _cleanup_free_ char *cmd = NULL, *full = NULL;
        if (vasprintf(&cmd, fmt, ap) < 0)
                return -ENOMEM;
        /* popen's stdin would be ours: give commands /dev/null instead. */
        if (asprintf(&full, "exec </dev/null; %s", cmd) < 0)
                return -ENOMEM;
        FILE *f = popen(full, "re");
        if (!f)
                return -errno;
        char *buf = NULL;
        size_t len = 0, cap = 0;
        for (;;) {
                if (cap - len < 4096) {
                        char *nb = realloc(buf, cap + 65536);
                        if (!nb) {
                                free(buf);
                                pclose(f);
                                return -ENOMEM;
                        }
                        buf = nb;
                        cap += 65536;
                }
                size_t k = fread(buf + len, 1, cap - len - 1, f);
                len += k;
                if (k == 0)
                        break;
        }
        buf[len] = '\0';
        int st = pclose(f);
        if (st < 0) {
                free(buf);
                return -errno;
        }
        if (ret_out)
                *ret_out = buf;
        else
                free(buf);
        if (WIFEXITED(st))
                return WEXITSTATUS(st);
        return 128 + WTERMSIG(st);
}

int sh_capture(char **ret_out, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = vsh_capture(ret_out, fmt, ap);
        va_end(ap);
        return r;
}

int vctr_capture(const char *addr, const char *ns, char **ret_out, const char *fmt, va_list ap) {
        _cleanup_free_ char *args = NULL, *qa = shell_quote(addr), *qn = shell_quote(ns);
        if (!qa || !qn || vasprintf(&args, fmt, ap) < 0)
                return -ENOMEM;
        return sh_capture(ret_out, "timeout -k 5 %d ctr --address %s -n %s %s", LIVE_CMD_TIMEOUT_S, qa, qn, args);
}

int ctr_capture(const char *addr, const char *ns, char **ret_out, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = vctr_capture(addr, ns, ret_out, fmt, ap);
        va_end(ap);
        return r;
}

int strv_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int lines_sorted(const char *text, char ***ret_lines, size_t *ret_n) {
        size_t n = 0, cap = 8;
        char **v = calloc(cap, sizeof(char *));
        if (!v)
                return -ENOMEM;
        for (const char *p = text; *p;) {
                const char *e = strchrnul(p, '\n');
                size_t l = (size_t) (e - p);
                while (l && (p[l - 1] == ' ' || p[l - 1] == '\t' || p[l - 1] == '\r'))
                        l--;
                if (l) {
                        if (n + 2 > cap) {
                                char **nv = realloc(v, 2 * cap * sizeof(char *));
                                if (!nv) {
                                        strv_free(v);
                                        return -ENOMEM;
                                }
                                v = nv;
                                cap *= 2;
                        }
                        v[n] = strndup(p, l);
                        if (!v[n]) {
                                strv_free(v);
                                return -ENOMEM;
                        }
                        v[++n] = NULL;
                }
                p = *e ? e + 1 : e;
        }
        qsort(v, n, sizeof(char *), strv_cmp);
        *ret_lines = v;
        *ret_n = n;
        return 0;
}

void sha256_digest(const uint8_t *data, size_t len, char out[72]) {
        uint8_t md[32];
        unsigned int mdlen = 0;
        EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
        memcpy(out, "sha256:", 7);
        for (unsigned i = 0; i < 32; i++)
                snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

void fill_random(uint8_t *buf, size_t len, uint64_t *seed) {
        uint64_t x = *seed ? *seed : 0x9e3779b97f4a7c15ULL;
        for (size_t i = 0; i < len; i += 8) {
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                uint64_t v = x * 0x2545F4914F6CDD1DULL;
                size_t k = len - i < 8 ? len - i : 8;
                memcpy(buf + i, &v, k);
        }
        *seed = x;
}

int read_pidfile(const char *path, pid_t *ret_pid) {
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        long v = 0;
        int k = fscanf(f, "%ld", &v);
        fclose(f);
        if (k != 1 || v <= 0)
                return -EBADMSG;
        *ret_pid = (pid_t) v;
        return 0;
}

char pid_state(pid_t pid) {
        char path[64], buf[512];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        /* comm may hold spaces and parentheses: the state follows the last ')'. */
        char *p = strrchr(buf, ')');
        if (!p || p[1] != ' ')
                return 0;
        return p[2];
}

bool pid_alive(pid_t pid) {
        char s = pid_state(pid);
        return s != 0 && s != 'Z' && s != 'X' && s != 'x';
}

bool pid_cmdline_has(pid_t pid, const char *needle) {
        char path[64], buf[8192];
        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int) pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return false;
        for (ssize_t i = 0; i < n; i++)
                if (buf[i] == '\0')
                        buf[i] = ' ';
        buf[n] = '\0';
        return strstr(buf, needle) != NULL;
}

int wait_pid_gone(pid_t pid, int64_t timeout_ms) {
        int64_t end = now_ms() + timeout_ms;
        while (pid_alive(pid)) {
                if (now_ms() >= end)
                        return -ETIMEDOUT;
                usleep(10 * 1000);
        }
        return 0;
}
