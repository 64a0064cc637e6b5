/* Resyncs asked for in the background (store_catalog_request_sync): a
 * thread of the catalog, started by the first request, does them; the
 * caller (a FUSE thread whose lookup missed) never waits for containerd.
 * Requests coalesce: a namespace is due at most once, and a resync of
 * every namespace covers them all. A request made while its resync runs
 * is due again: that resync may have listed before what was asked for. */
#include "catalog-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static bool due(const store_catalog *c, const char *ns) {
        if (c->refresh_all)
                return true;
        for (size_t i = 0; ns && i < c->n_refresh_ns; i++)
                if (strcmp(c->refresh_ns[i], ns) == 0)
                        return true;
        return false;
}

static void *refresh_main(void *userdata) {
        store_catalog *c = userdata;
        pthread_mutex_lock(&c->lock);
        for (;;) {
                while (!c->stop && !c->refresh_all && c->n_refresh_ns == 0)
                        pthread_cond_wait(&c->refresh_wake, &c->lock);
                if (c->stop)
                        break;
                bool all = c->refresh_all;
                char **v = c->refresh_ns;
                c->refresh_all = false;
                c->refresh_ns = NULL;
                c->n_refresh_ns = 0;
                pthread_mutex_unlock(&c->lock);
                if (all)
                        (void) store_catalog_sync(c, NULL);
                for (size_t i = 0; !all && v && v[i]; i++)
                        (void) store_catalog_sync(c, v[i]);
                strv_free(v);
                pthread_mutex_lock(&c->lock);
        }
        pthread_mutex_unlock(&c->lock);
        return NULL;
}

/* With c->lock held. */
static int start_thread(store_catalog *c) {
        if (c->refresh_started)
                return 0;
        int r = pthread_create(&c->refresh_thread, NULL, refresh_main, c);
        if (r != 0)
                return -r;
        c->refresh_started = true;
        return 0;
}

void store_catalog_request_sync(store_catalog *c, const char *ns) {
        pthread_mutex_lock(&c->lock);
        int r = 0;
        if (!c->stop && !due(c, ns)) {
                if (!ns)
                        c->refresh_all = true;
                else
                        r = strv_push(&c->refresh_ns, &c->n_refresh_ns, ns);
                if (r >= 0)
                        r = start_thread(c);
                pthread_cond_signal(&c->refresh_wake);
        }
        pthread_mutex_unlock(&c->lock);
        /* Dropped: the events thread and the next request resync anyway. */
        if (r < 0)
                log_warning_errno(r, "cannot ask for a resync of %s", ns ? ns : "every namespace");
}

void catalog_refresh_join(store_catalog *c) {
        pthread_mutex_lock(&c->lock);
        bool started = c->refresh_started;
        pthread_cond_broadcast(&c->refresh_wake);
        pthread_mutex_unlock(&c->lock);
        if (started)
                pthread_join(c->refresh_thread, NULL);
}
