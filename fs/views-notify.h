/* Kernel cache invalidation for checkpoint name changes and container and
 * task events (a queue and a thread of its own: notifications are never
 * sent from inside an op). Container and task events also drop what the
 * live view cached about the container, before the kernel is told.
 * Thread-safe. */
#pragma once

#include <stdbool.h>

#include "fs.h"

typedef struct views_notifier views_notifier;

/* ctx is borrowed; ctx->se may be set later (nothing is sent before). */
int views_notifier_new(fs_ctx *ctx, views_notifier **ret);
/* Stops the thread, drops what is queued. */
views_notifier *views_notifier_free(views_notifier *v);

/* A store_catalog_cb; userdata is the views_notifier. */
void views_notify_cb(void *userdata, const char *ns, const char *name, bool containers);
