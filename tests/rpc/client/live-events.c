/* Live tests of Events.Subscribe: a filtered stream receives the event of a
 * `ctr images tag`, and rpc_call_cancel() from another thread ends a blocked
 * rpc_events_next() promptly. Streams have no deadline: a watchdog thread
 * cancels them if a test goes wrong, so nothing hangs. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "containerd.h"
#include "live-tests.h"
#include "live-util.h"

typedef struct {
        rpc_call *call;
        pthread_mutex_t m;
        pthread_cond_t cv;
        bool done, fired;
        int64_t ms;
} watchdog;

static void *watchdog_main(void *p) {
        watchdog *w = p;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += w->ms / 1000;
        until.tv_nsec += (w->ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&w->m);
        while (!w->done)
                if (pthread_cond_timedwait(&w->cv, &w->m, &until) == ETIMEDOUT) {
                        w->fired = true;
                        rpc_call_cancel(w->call);
                        break;
                }
        pthread_mutex_unlock(&w->m);
        return NULL;
}

static void watchdog_start(watchdog *w, pthread_t *t, rpc_call *call, int64_t ms) {
        *w = (watchdog) { .call = call, .ms = ms };
        pthread_mutex_init(&w->m, NULL);
        pthread_condattr_t a;
        pthread_condattr_init(&a);
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
        pthread_cond_init(&w->cv, &a);
        pthread_condattr_destroy(&a);
        assert_int_equal(pthread_create(t, NULL, watchdog_main, w), 0);
}

static void watchdog_stop(watchdog *w, pthread_t t) {
        pthread_mutex_lock(&w->m);
        w->done = true;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->m);
        pthread_join(t, NULL);
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->m);
}

#define MAX_TAGS 40
typedef struct {
        atomic_bool stop;
        pthread_mutex_t m;
        char names[MAX_TAGS][128];
        int n, failures;
} tagger;

/* Tags the image under new names until told to stop: the subscription is
 * registered asynchronously, so one tag right after Subscribe may be missed. */
static void *tagger_main(void *p) {
        tagger *t = p;
        for (int i = 0; i < MAX_TAGS && !atomic_load(&t->stop); i++) {
                char name[128];
                snprintf(name, sizeof(name), "docker.io/library/%s-evt:%d", L.prefix, i);
                int r = ctr_capture(L.addr, L.ns, NULL, "images tag %s %s >/dev/null", L.image, name);
                pthread_mutex_lock(&t->m);
                if (r == 0)
                        snprintf(t->names[t->n++], sizeof(t->names[0]), "%s", name);
                else
                        t->failures++;
                pthread_mutex_unlock(&t->m);
                for (int k = 0; k < 30 && !atomic_load(&t->stop); k++)
                        usleep(10 * 1000);
        }
        return NULL;
}

void test_events_image_create(void **state) {
        (void) state;
        char f[256];
        snprintf(f, sizeof(f), "topic==\"/images/create\",namespace==\"%s\"", L.ns);
        const char *filters[] = { f };
        rpc_opts o = opts();
        rpc_error err = { 0 };
        rpc_call *call = NULL;
        assert_int_equal(rpc_events_open(L.c, &o, filters, 1, &call, &err), 0);

        watchdog w;
        pthread_t wt, tt;
        watchdog_start(&w, &wt, call, 30000);
        tagger tg = { 0 };
        pthread_mutex_init(&tg.m, NULL);
        assert_int_equal(pthread_create(&tt, NULL, tagger_main, &tg), 0);

        char got_name[256] = "";
        int r = 0, n_events = 0;
        bool other_topic = false;
        while (!got_name[0]) {
                _cleanup_pb_msg_ rpc_envelope *env = NULL;
                r = rpc_events_next(call, &env, &err);
                if (r <= 0)
                        break;
                n_events++;
                /* The filter works: nothing else arrives. */
                if (strcmp(env->topic, "/images/create") != 0 || strcmp(env->namespace_, L.ns) != 0) {
                        other_topic = true;
                        break;
                }
                if (!env->event || strcmp(env->event->type_url, "containerd.services.images.v1.ImageCreate") != 0)
                        break;
                _cleanup_pb_msg_ Containerd__Services__Images__V1__ImageCreate *ev = NULL;
                if (pb_msg_unpack(&containerd__services__images__v1__image_create__descriptor, env->event->value.data,
                                   env->event->value.len, (ProtobufCMessage **) &ev) < 0)
                        break;
                /* No asserts while the helper threads run: just stop. */
                if (!env->timestamp)
                        break;
                if (strstr(ev->name, L.prefix))
                        snprintf(got_name, sizeof(got_name), "%s", ev->name);
        }
        atomic_store(&tg.stop, true);
        pthread_join(tt, NULL);
        watchdog_stop(&w, wt);
        rpc_call_free(call);

        assert_false(w.fired);
        assert_false(other_topic);
        if (!got_name[0])
                fail_msg("no ImageCreate event (next: %d, %s; %d events)", r, err.message, n_events);
        bool tagged = false;
        for (int i = 0; i < tg.n; i++) {
                tagged |= strcmp(tg.names[i], got_name) == 0;
                ctr(NULL, "images rm %s >/dev/null 2>&1", tg.names[i]);
        }
        assert_true(tagged);
        assert_int_equal(tg.failures, 0);
        pthread_mutex_destroy(&tg.m);
}

typedef struct {
        rpc_call *call;
        int64_t delay_ms;
        _Atomic int64_t cancelled_at;
} canceller;

static void *canceller_main(void *p) {
        canceller *c = p;
        usleep((useconds_t) c->delay_ms * 1000);
        atomic_store(&c->cancelled_at, now_ms());
        rpc_call_cancel(c->call);
        return NULL;
}

void test_events_cancel(void **state) {
        (void) state;
        const char *filters[] = { "topic==\"/ckptfs/never\"" };
        rpc_opts o = opts();
        rpc_error err = { 0 };
        rpc_call *call = NULL;
        assert_int_equal(rpc_events_open(L.c, &o, filters, 1, &call, &err), 0);

        /* A watchdog well beyond the expected time turns a hang into a failure. */
        watchdog w;
        pthread_t wt, ct;
        watchdog_start(&w, &wt, call, 20000);
        canceller cn = { .call = call, .delay_ms = 500 };
        assert_int_equal(pthread_create(&ct, NULL, canceller_main, &cn), 0);

        rpc_envelope *env = NULL;
        int r = rpc_events_next(call, &env, &err);
        int64_t ended = now_ms();
        pthread_join(ct, NULL);
        watchdog_stop(&w, wt);

        assert_false(w.fired);
        assert_int_equal(r, -ECANCELED);
        assert_null(env);
        assert_int_equal(err.status, GRPC_STATUS_CANCELLED);
        int64_t lag = ended - atomic_load(&cn.cancelled_at);
        print_message("  rpc_events_next returned %lld ms after rpc_call_cancel\n", (long long) lag);
        assert_true(lag < 1000);
        /* Stays ended. */
        assert_int_equal(rpc_events_next(call, &env, &err), -ECANCELED);
        assert_null(rpc_call_free(call));

        /* Cancel before anyone waits: the next read returns at once. */
        assert_int_equal(rpc_events_open(L.c, &o, filters, 1, &call, &err), 0);
        rpc_call_cancel(call);
        int64_t t0 = now_ms();
        assert_int_equal(rpc_events_next(call, &env, &err), -ECANCELED);
        assert_true(now_ms() - t0 < 1000);
        rpc_call_free(call);
}
