/* A small pool of threads over an index range, and the helpers the
 * workflows share. */
#include "registry.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "registry-auth.h"
#include "vocab.h"

typedef struct pool {
        pthread_mutex_t lock;
        size_t next, n;
        int r;
        int (*fn)(void *ud, size_t i);
        void *ud;
} pool;

static void *worker(void *arg) {
        pool *p = arg;
        for (;;) {
                pthread_mutex_lock(&p->lock);
                size_t i = p->next;
                bool stop = p->r < 0 || i >= p->n;
                if (!stop)
                        p->next++;
                pthread_mutex_unlock(&p->lock);
                if (stop)
                        return NULL;
                int r = p->fn(p->ud, i);
                if (r < 0) {
                        pthread_mutex_lock(&p->lock);
                        if (p->r >= 0)
                                p->r = r;
                        pthread_mutex_unlock(&p->lock);
                }
        }
}

int registry_pool_run(size_t n, unsigned threads, int (*fn)(void *ud, size_t i), void *ud) {
        pool p = { .n = n, .fn = fn, .ud = ud };
        pthread_mutex_init(&p.lock, NULL);
        pthread_t tid[16];
        unsigned started = 0;
        if (threads > 16)
                threads = 16;
        for (unsigned t = 0; t + 1 < threads && t + 1 < n; t++)
                if (pthread_create(&tid[started], NULL, worker, &p) == 0)
                        started++;
        worker(&p);
        for (unsigned t = 0; t < started; t++)
                pthread_join(tid[t], NULL);
        pthread_mutex_destroy(&p.lock);
        return p.r;
}

bool registry_is_manifest(const char *mt) {
        return mt && (strcmp(mt, MT_INDEX) == 0 || strcmp(mt, MT_MANIFEST) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0 ||
                      strcmp(mt, MT_DOCKER_MANIFEST) == 0);
}

int registry_auth_from_file(const char *path, const char *host, char **ret) {
        *ret = NULL;
        if (!path)
                return 0;
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        _cleanup_free_ char *text = NULL;
        size_t cap = 0;
        ssize_t len = getdelim(&text, &cap, 0, f);
        if (len < 0)
                return -EBADMSG;
        int r = registry_auth_lookup(text, (size_t) len, host, ret);
        explicit_bzero(text, (size_t) len);
        return r == -ENOENT ? 0 : r;
}
