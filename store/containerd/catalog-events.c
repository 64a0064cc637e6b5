/* The events thread: Events.Subscribe on images, containers and tasks; a
 * full resync after every (re)subscription (subscribed first, so nothing
 * falls in between), then a resync of a namespace per image event, and
 * container and task events passed to the change callback. A lost stream
 * is subscribed again every RETRY_MS. */
#include "catalog-internal.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "containerd.h"
#include "log.h"

#define RETRY_MS 300

/* Whether the stream was reported lost, so that a loss and a comeback are
 * logged once each, however many tries lie between. */
typedef enum stream_state { STREAM_NEW, STREAM_UP, STREAM_DOWN } stream_state;

static bool sleep_or_stop(store_catalog *c, long ms) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += ms / 1000;
        until.tv_nsec += (ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&c->lock);
        while (!c->stop && pthread_cond_timedwait(&c->wake, &c->lock, &until) == 0)
                ;
        bool stop = c->stop;
        pthread_mutex_unlock(&c->lock);
        return stop;
}

static void first_sync_tried(store_catalog *c) {
        pthread_mutex_lock(&c->lock);
        c->first_sync_done = true;
        pthread_cond_broadcast(&c->first_sync);
        pthread_mutex_unlock(&c->lock);
}

/* A container or task event about one container (id NULL: unknown), or
 * ns NULL: about anything. */
static void notify_containers(store_catalog *c, const char *ns, const char *id) {
        pthread_mutex_lock(&c->lock);
        store_catalog_cb cb = c->cb;
        void *userdata = c->userdata;
        pthread_mutex_unlock(&c->lock);
        if (cb)
                cb(userdata, ns, id, true);
}

static void on_event(store_catalog *c, const rpc_envelope *env) {
        if (c->only_ns && strcmp(env->namespace_, c->only_ns) != 0)
                return;
        if (strncmp(env->topic, "/images/", 8) == 0) {
                (void) store_catalog_sync(c, env->namespace_);
                return;
        }
        _cleanup_free_ char *id = NULL;
        if (rpc_event_container_id(env, &id) < 0)
                id = NULL;
        notify_containers(c, env->namespace_, id);
}

/* Reads the stream until it ends; returns why, with err filled. */
static int follow(store_catalog *c, rpc_call *call, rpc_error *err) {
        for (;;) {
                _cleanup_pb_msg_ rpc_envelope *env = NULL;
                int r = rpc_events_next(call, &env, err);
                if (r == 0)
                        return rpc_error_set(err, ECONNRESET, "the events stream ended");
                if (r < 0)
                        return r;
                on_event(c, env);
        }
}

static void log_up(stream_state *s) {
        if (*s == STREAM_DOWN)
                log_info("containerd events: stream re-established");
        *s = STREAM_UP;
}

static void log_down(stream_state *s, int r, const rpc_error *err) {
        if (*s != STREAM_DOWN)
                log_warning_errno(r, "containerd events: %s (%s); retrying every %d ms",
                                  *s == STREAM_NEW ? "cannot subscribe" : "stream lost", err->message, RETRY_MS);
        *s = STREAM_DOWN;
}

/* One subscription; false when the catalog stops. */
static bool subscribe_once(store_catalog *c, stream_state *state) {
        static const char *const filters[] = { "topic~=\"^/images/\"", "topic~=\"^/containers/\"",
                                               "topic~=\"^/tasks/\"" };
        rpc_call *call = NULL;
        rpc_error err = { .message = "" };
        int r = rpc_events_open(c->rpc, &(rpc_opts) { .ns = NULL }, filters, ELEMENTSOF(filters), &call, &err);
        pthread_mutex_lock(&c->lock);
        bool stop = c->stop;
        if (r >= 0 && !stop)
                c->call = call;
        pthread_mutex_unlock(&c->lock);
        if (stop) {
                rpc_call_free(call);
                return false;
        }
        if (r >= 0) {
                /* A resync that works says the daemon is there. */
                if (store_catalog_sync(c, NULL) >= 0)
                        log_up(state);
                first_sync_tried(c);
                /* Containers and tasks changed unseen while we were away. */
                notify_containers(c, NULL, NULL);
                r = follow(c, call, &err);
                pthread_mutex_lock(&c->lock);
                c->call = NULL;
                stop = c->stop;
                pthread_mutex_unlock(&c->lock);
                rpc_call_free(call);
                if (stop)
                        return false;
        }
        log_down(state, r, &err);
        first_sync_tried(c);   /* or not reachable: the cache is what there is */
        return true;
}

static void *events_main(void *userdata) {
        store_catalog *c = userdata;
        stream_state state = STREAM_NEW;
        while (subscribe_once(c, &state) && !sleep_or_stop(c, RETRY_MS))
                ;
        return NULL;
}

int store_catalog_start(store_catalog *c, store_catalog_cb cb, void *userdata) {
        pthread_mutex_lock(&c->lock);
        c->cb = cb;
        c->userdata = userdata;
        pthread_mutex_unlock(&c->lock);
        int r = pthread_create(&c->thread, NULL, events_main, c);
        if (r != 0)
                return -r;
        pthread_mutex_lock(&c->lock);
        c->started = true;
        pthread_mutex_unlock(&c->lock);
        return 0;
}

void catalog_events_join(store_catalog *c) {
        pthread_mutex_lock(&c->lock);
        bool started = c->started;
        if (c->call)
                rpc_call_cancel(c->call);
        pthread_cond_broadcast(&c->wake);
        pthread_mutex_unlock(&c->lock);
        if (started)
                pthread_join(c->thread, NULL);
}
