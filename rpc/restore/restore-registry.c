/* restore-registry.h: one entry per checkpoint restored, under one mutex
 * held only for bookkeeping. */
#include "errname.h"
#include "restore-registry.h"
#include "cleanup.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rentry {
        struct rentry *next;
        char *ns, *image;
        bool running;
        char *report;   /* the last one; NULL: none yet */
} rentry;

struct restore_registry {
        pthread_mutex_t lock;
        rentry *head;
        char *content_root;   /* set before any restore, read without the lock */
};

int restore_registry_set_content_root(restore_registry *reg, const char *dir) {
        char *s = dir ? strdup(dir) : NULL;
        if (dir && !s)
                return -ENOMEM;
        free(reg->content_root);
        reg->content_root = s;
        return 0;
}

const char *rreg_content_root(restore_registry *reg) {
        return reg->content_root;
}

int restore_registry_new(restore_registry **ret) {
        restore_registry *reg = calloc(1, sizeof(*reg));
        if (!reg)
                return -ENOMEM;
        pthread_mutex_init(&reg->lock, NULL);
        *ret = reg;
        return 0;
}

restore_registry *restore_registry_free(restore_registry *reg) {
        if (!reg)
                return NULL;
        for (rentry *e = reg->head, *next; e; e = next) {
                next = e->next;
                free(e->ns);
                free(e->image);
                free(e->report);
                free(e);
        }
        pthread_mutex_destroy(&reg->lock);
        free(reg->content_root);
        free(reg);
        return NULL;
}

/* The entry of (ns, image), made if `create`; lock held. */
static rentry *find(restore_registry *reg, const char *ns, const char *image, bool create) {
        for (rentry *e = reg->head; e; e = e->next)
                if (strcmp(e->ns, ns) == 0 && strcmp(e->image, image) == 0)
                        return e;
        if (!create)
                return NULL;
        rentry *e = calloc(1, sizeof(*e));
        if (!e || !(e->ns = strdup(ns)) || !(e->image = strdup(image))) {
                if (e)
                        free(e->ns);
                free(e);
                return NULL;
        }
        e->next = reg->head;
        reg->head = e;
        return e;
}

int rreg_begin(restore_registry *reg, const char *ns, const char *image) {
        pthread_mutex_lock(&reg->lock);
        rentry *e = find(reg, ns, image, true);
        int r = !e ? -ENOMEM : e->running ? -EBUSY : 0;
        if (r == 0)
                e->running = true;
        pthread_mutex_unlock(&reg->lock);
        return r;
}

/* Replaces the report of (ns, image); consumes text. */
static void set_report(restore_registry *reg, const char *ns, const char *image, char *text) {
        pthread_mutex_lock(&reg->lock);
        rentry *e = find(reg, ns, image, true);
        if (e) {
                free(e->report);
                e->report = text;
                e->running = false;
        } else
                free(text);
        pthread_mutex_unlock(&reg->lock);
}

/* The report's text: see restore_registry_last_report() in restore.h. */
static char *format_report(const restore_run *t, int r) {
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);
        if (!f)
                return NULL;
        fprintf(f, "result: %s\ncheckpoint: %s\n", r < 0 ? "failed" : "ok", t->image);
        if (*t->id)
                fprintf(f, "container: %s\n", t->id);
        if (r >= 0)
                fprintf(f, "pid: %u\n", t->pid);
        if (t->base_name)
                fprintf(f, "image: %s\n", t->base_name);
        if (r < 0)
                fprintf(f, "stage: %s\nerror: %s\nmessage: %s\n",
                        restore_stage_names[t->failed_stage >= 0 ? t->failed_stage : t->stage],
                        errno_name(t->error ? t->error : r), *t->msg ? t->msg : strerror(-r));
        long total = 0;
        for (int s2 = 0; s2 < RS_MAX; s2++)
                if (t->stage_seen[s2]) {
                        fprintf(f, "stage %s: %ld ms\n", restore_stage_names[s2], t->stage_ms[s2]);
                        total += t->stage_ms[s2];
                }
        fprintf(f, "total: %ld ms\n", total);
        if (fclose(f) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

void rreg_finish(restore_registry *reg, const char *ns, const char *image, const restore_run *t, int r) {
        set_report(reg, ns, image, format_report(t, r));
}

int restore_registry_note_error(restore_registry *reg, const char *ns, const char *image, int error,
                                const char *msg) {
        char *text = NULL;
        if (asprintf(&text, "result: failed\ncheckpoint: %s\nstage: request\nerror: %s\nmessage: %s\n", image,
                     errno_name(error), msg ? msg : "invalid request") < 0)
                return -ENOMEM;
        pthread_mutex_lock(&reg->lock);
        rentry *e = find(reg, ns, image, true);
        if (e) {
                free(e->report);
                e->report = text;
        } else
                free(text);
        pthread_mutex_unlock(&reg->lock);
        return e ? 0 : -ENOMEM;
}

int restore_registry_last_report(restore_registry *reg, const char *ns, const char *image, char **ret_text) {
        pthread_mutex_lock(&reg->lock);
        rentry *e = find(reg, ns, image, false);
        char *s = strdup(!e ? "" : e->running ? "result: running\n" : e->report ? e->report : "");
        pthread_mutex_unlock(&reg->lock);
        if (!s)
                return -ENOMEM;
        *ret_text = s;
        return 0;
}
