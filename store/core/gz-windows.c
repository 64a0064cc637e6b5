/* SPDX-License-Identifier: MIT */
/* The window cache of a deserialised index: windows fetched through the
 * loader on first need, checked against their CRC, the last few kept. */
#include "gzindex-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

void gz_window_cache_free(struct window_cache *wc) {
        if (!wc)
                return;
        for (size_t s = 0; s < GZ_N_CACHED; s++)
                free(wc->slots[s].data);
        free(wc->bad);
        pthread_mutex_destroy(&wc->lock);
        free(wc);
}

int gz_window_cache_new(size_t n_points, struct window_cache **ret) {
        struct window_cache *wc = calloc(1, sizeof(*wc));
        int k;

        if (!wc)
                return -ENOMEM;
        wc->bad = calloc(n_points, 1);
        if (!wc->bad) {
                free(wc);
                return -ENOMEM;
        }
        k = pthread_mutex_init(&wc->lock, NULL);
        if (k != 0) {
                free(wc->bad);
                free(wc);
                return -k;
        }
        *ret = wc;
        return 0;
}

/* Copies the stored bytes of deserialised point i's window into buf (room
 * for GZ_WINDOW bytes): from the cache, else through the loader, checked against
 * the point's CRC and then cached. A missing or corrupt window is remembered,
 * so that later seeks skip it without asking the loader again. */
int gz_fetch_stored(const struct gzindex *idx, size_t i, uint8_t *buf) {
        const struct gz_point *p = &idx->points[i];
        struct window_cache *wc = idx->cache;
        size_t len = p->zlen ? p->zlen : p->wlen;
        uint8_t *copy;
        int k, victim = 0;

        pthread_mutex_lock(&wc->lock);
        k = wc->bad[i] ? -EBADMSG : -ENOENT;
        for (int s = 0; k == -ENOENT && s < GZ_N_CACHED; s++)
                if (wc->slots[s].data && wc->slots[s].point == i) {
                        memcpy(buf, wc->slots[s].data, len);
                        wc->slots[s].stamp = ++wc->clock;
                        k = 0;
                }
        pthread_mutex_unlock(&wc->lock);
        if (k != -ENOENT)
                return k;

        /* Not under the lock: the loader may take a while (sqlite). */
        k = idx->loader.load(idx->loader.userdata, (uint32_t) i, buf, len);
        if (k >= 0 && crc32_z(0, buf, len) != p->wcrc)
                k = -EBADMSG;
        if (k < 0 && k != -EBADMSG && k != -ENOENT)
                return k; /* maybe transient: ask again next time */
        copy = k >= 0 ? malloc(len) : NULL;
        if (copy)
                memcpy(copy, buf, len);

        pthread_mutex_lock(&wc->lock);
        if (k < 0) {
                wc->bad[i] = 1;
                wc->damaged = true;
        }
        for (int s = 0; copy && s < GZ_N_CACHED; s++) {
                if (wc->slots[s].data && wc->slots[s].point == i) {
                        free(TAKE_PTR(copy)); /* a racing fetch cached it first */
                        break;
                }
                if (!wc->slots[s].data || (wc->slots[victim].data && wc->slots[s].stamp < wc->slots[victim].stamp))
                        victim = s;
        }
        if (copy) {
                free(wc->slots[victim].data);
                wc->slots[victim].data = copy;
                wc->slots[victim].point = (uint32_t) i;
                wc->slots[victim].stamp = ++wc->clock;
        }
        pthread_mutex_unlock(&wc->lock);
        return k;
}
