/* The last push/pull outcome per key, as `cat push|pull` shows it. */
#include "registry.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct report {
        char *key, *text;
} report;

struct registry_reports {
        pthread_mutex_t lock;
        report *v;
        size_t n;
};

int registry_reports_new(registry_reports **ret) {
        registry_reports *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        pthread_mutex_init(&r->lock, NULL);
        *ret = r;
        return 0;
}

registry_reports *registry_reports_free(registry_reports *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n; i++) {
                free(r->v[i].key);
                free(r->v[i].text);
        }
        free(r->v);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return NULL;
}

static char *format(const char *op, const char *ref, int r, const registry_result *res, const registry_error *err) {
        char when[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        char *s = NULL;
        int k;
        if (r < 0)
                k = asprintf(&s, "result: error\nop: %s\nref: %s\nerrno: %s\nerror: %s\nfinished: %s\n", op, ref,
                             strerrorname_np(-r) ? strerrorname_np(-r) : "?", err && err->message[0] ? err->message : strerror(-r),
                             when);
        else
                k = asprintf(&s,
                             "result: ok\nop: %s\nref: %s\ndigest: %s\nblobs: %u\n%s: %u\nskipped: %u\n"
                             "mounted: %u\nchunked: %u\nmanifests: %u\nbytes: %llu\ntime_ms: %ld\nfinished: %s\n",
                             op, ref, res->digest, res->blobs, strcmp(op, "pull") == 0 ? "fetched" : "uploaded", res->uploaded, res->skipped, res->mounted, res->chunked,
                             res->manifests,
                             (unsigned long long) res->bytes, res->ms, when);
        return k < 0 ? NULL : s;
}

int registry_reports_note(registry_reports *rep, const char *key, const char *op, const char *ref, int r,
                          const registry_result *res, const registry_error *err) {
        char *text = format(op, ref, r, res, err);
        if (!text)
                return -ENOMEM;
        pthread_mutex_lock(&rep->lock);
        for (size_t i = 0; i < rep->n; i++)
                if (strcmp(rep->v[i].key, key) == 0) {
                        free(rep->v[i].text);
                        rep->v[i].text = text;
                        pthread_mutex_unlock(&rep->lock);
                        return 0;
                }
        report *v = realloc(rep->v, (rep->n + 1) * sizeof(*v));
        char *k = strdup(key);
        if (!v || !k) {
                if (v)
                        rep->v = v;
                pthread_mutex_unlock(&rep->lock);
                free(k);
                free(text);
                return -ENOMEM;
        }
        rep->v = v;
        rep->v[rep->n++] = (report) { .key = k, .text = text };
        pthread_mutex_unlock(&rep->lock);
        return 0;
}

int registry_reports_get(registry_reports *rep, const char *key, char **ret) {
        char *s = NULL;
        pthread_mutex_lock(&rep->lock);
        for (size_t i = 0; i < rep->n; i++)
                if (strcmp(rep->v[i].key, key) == 0)
                        s = strdup(rep->v[i].text);
        pthread_mutex_unlock(&rep->lock);
        if (!s)
                s = strdup("");
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
