/* Per-process memory of checkpoints: which (namespace, container) has one
 * running and in which stage, and the text of each one's last result. A
 * list under one mutex: there are as many entries as containers ever
 * checkpointed, and every operation is short. */
#include "checkpoint-registry.h"
#include "checkpoint-request.h"
#include "checkpoint-stage.h"
#include "monotime.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ckpt_entry {
        struct ckpt_entry *next;
        char *ns, *id;
        bool running;
        const char *stage;
        struct timespec started;
        char *report;   /* last result, NULL: none yet */
        char index[DIGEST_MAX];   /* the index digest of the last result's image; "": none */
        char *status;
};

struct ckpt_registry {
        pthread_mutex_t lock;
        struct ckpt_entry *entries;
        char *work_dir;
        int upload_mode;
        char *journal_dir;
        char *content_root;
        unsigned keep;         /* default keep=N; 0: none */
        int kill_stage;        /* -1: none (see ckpt_registry_set_fault) */
        long kill_ms;
};

int ckpt_registry_new(ckpt_registry **ret) {
        ckpt_registry *reg = calloc(1, sizeof(*reg));
        if (!reg)
                return -ENOMEM;
        reg->upload_mode = CKPT_UPLOAD_DIFF;
        reg->kill_stage = -1;
        pthread_mutex_init(&reg->lock, NULL);
        *ret = reg;
        return 0;
}

/* An absolute directory path (NULL: none) into *dst. */
static int set_path(char **dst, const char *dir) {
        if (dir && dir[0] != '/')
                return -EINVAL;
        char *d = dir ? strdup(dir) : NULL;
        if (dir && !d)
                return -ENOMEM;
        free(*dst);
        *dst = d;
        return 0;
}

int ckpt_registry_set_work_dir(ckpt_registry *reg, const char *dir) {
        if (!reg || !dir)
                return -EINVAL;
        pthread_mutex_lock(&reg->lock);
        int r = set_path(&reg->work_dir, dir);
        pthread_mutex_unlock(&reg->lock);
        return r;
}

/* The other settings are made at start-up, before checkpoints run: no
 * lock. */
int ckpt_registry_set_journal_dir(ckpt_registry *reg, const char *dir) {
        return reg ? set_path(&reg->journal_dir, dir) : -EINVAL;
}

int ckpt_registry_set_content_root(ckpt_registry *reg, const char *dir) {
        return reg ? set_path(&reg->content_root, dir) : -EINVAL;
}

int ckpt_registry_set_keep(ckpt_registry *reg, unsigned keep) {
        if (!reg || keep > CKPT_KEEP_MAX)
                return -EINVAL;
        reg->keep = keep;
        return 0;
}

unsigned ckpt_registry_keep(ckpt_registry *reg) {
        return reg->keep;
}

int ckpt_registry_set_fault(ckpt_registry *reg, const char *spec) {
        if (!reg || !spec)
                return -EINVAL;
        size_t n = strcspn(spec, "+");
        long ms = 0;
        if (spec[n]) {
                char *end;
                ms = strtol(spec + n + 1, &end, 10);
                if (*end || ms < 0 || end == spec + n + 1)
                        return -EINVAL;
        }
        for (int s = 0; s < N_STAGES; s++)
                if (strlen(ckpt_stage_names[s]) == n && strncmp(spec, ckpt_stage_names[s], n) == 0) {
                        reg->kill_stage = s;
                        reg->kill_ms = ms;
                        return 0;
                }
        return -EINVAL;
}

const char *ckpt_registry_journal_dir(ckpt_registry *reg) {
        return reg->journal_dir;
}

const char *ckpt_registry_content_root(ckpt_registry *reg) {
        return reg->content_root;
}

bool ckpt_registry_fault(ckpt_registry *reg, int stage, long *ret_ms) {
        if (reg->kill_stage != stage)
                return false;
        *ret_ms = reg->kill_ms;
        return true;
}

int ckpt_registry_set_upload_mode(ckpt_registry *reg, int mode) {
        if (!reg || (mode != CKPT_UPLOAD_DIFF && mode != CKPT_UPLOAD_STREAM))
                return -EINVAL;
        reg->upload_mode = mode;
        return 0;
}

int ckpt_registry_upload_mode(ckpt_registry *reg) {
        return reg->upload_mode;
}

const char *ckpt_registry_work_dir(ckpt_registry *reg) {
        /* Set at start-up, before checkpoints run. */
        return reg->work_dir;
}

ckpt_registry *ckpt_registry_free(ckpt_registry *reg) {
        if (!reg)
                return NULL;
        for (struct ckpt_entry *e = reg->entries, *next; e; e = next) {
                next = e->next;
                free(e->ns);
                free(e->id);
                free(e->report);
                free(e->status);
                free(e);
        }
        pthread_mutex_destroy(&reg->lock);
        free(reg->work_dir);
        free(reg->journal_dir);
        free(reg->content_root);
        free(reg);
        return NULL;
}

/* Under the lock. */
static struct ckpt_entry *find(ckpt_registry *reg, const char *ns, const char *id) {
        for (struct ckpt_entry *e = reg->entries; e; e = e->next)
                if (strcmp(e->ns, ns) == 0 && strcmp(e->id, id) == 0)
                        return e;
        return NULL;
}

/* Under the lock: a new entry for (ns, id), or NULL without memory. */
static struct ckpt_entry *add(ckpt_registry *reg, const char *ns, const char *id) {
        struct ckpt_entry *e = calloc(1, sizeof(*e));
        if (!e || !(e->ns = strdup(ns)) || !(e->id = strdup(id))) {
                if (e)
                        free(e->ns);
                free(e);
                return NULL;
        }
        e->next = reg->entries;
        reg->entries = e;
        return e;
}

int ckpt_registry_begin(ckpt_registry *reg, const char *ns, const char *id, ckpt_entry **ret) {
        pthread_mutex_lock(&reg->lock);
        struct ckpt_entry *e = find(reg, ns, id);
        if (e && e->running) {
                pthread_mutex_unlock(&reg->lock);
                return -EBUSY;
        }
        if (!e && !(e = add(reg, ns, id))) {
                pthread_mutex_unlock(&reg->lock);
                return -ENOMEM;
        }
        e->running = true;
        e->stage = "prepare";
        e->started = monotime_now();
        pthread_mutex_unlock(&reg->lock);
        *ret = e;
        return 0;
}

void ckpt_registry_stage(ckpt_registry *reg, ckpt_entry *e, const char *stage) {
        pthread_mutex_lock(&reg->lock);
        e->stage = stage;
        pthread_mutex_unlock(&reg->lock);
}

void ckpt_registry_end(ckpt_registry *reg, ckpt_entry *e, char *report, char *status, const char *index_digest) {
        pthread_mutex_lock(&reg->lock);
        snprintf(e->index, sizeof(e->index), "%s", index_digest ? index_digest : "");
        free(e->report);
        free(e->status);
        e->report = report;
        e->status = status;
        e->running = false;
        e->stage = NULL;
        pthread_mutex_unlock(&reg->lock);
}

int ckpt_registry_last_index(ckpt_registry *reg, const char *ns, const char *id, char ret_digest[DIGEST_MAX]) {
        if (!reg || !ns || !id || !ret_digest)
                return -EINVAL;
        pthread_mutex_lock(&reg->lock);
        struct ckpt_entry *e = find(reg, ns, id);
        int r = e && !e->running && *e->index ? 0 : -ENOENT;
        if (r == 0)
                memcpy(ret_digest, e->index, DIGEST_MAX);
        pthread_mutex_unlock(&reg->lock);
        return r;
}

int ckpt_registry_last_report(ckpt_registry *reg, const char *ns, const char *id, char **ret_text) {
        if (!reg || !ns || !id || !ret_text)
                return -EINVAL;
        pthread_mutex_lock(&reg->lock);
        struct ckpt_entry *e = find(reg, ns, id);
        int r = -ENOENT;
        char *text = NULL;
        if (e && e->running) {
                r = asprintf(&text, "result: running\nstage: %s\nelapsed: %ld ms\n%s%s", e->stage,
                             monotime_ms_since(&e->started), e->report ? "previous:\n" : "", e->report ? e->report : "");
                r = r < 0 ? -ENOMEM : 0;
        } else if (e && e->report) {
                text = strdup(e->report);
                r = text ? 0 : -ENOMEM;
        }
        pthread_mutex_unlock(&reg->lock);
        if (r < 0)
                return r;
        *ret_text = text;
        return 0;
}

int ckpt_registry_status_lines(ckpt_registry *reg, const char *ns, const char *id, char **ret_text) {
        if (!reg || !ns || !id || !ret_text)
                return -EINVAL;
        pthread_mutex_lock(&reg->lock);
        struct ckpt_entry *e = find(reg, ns, id);
        const char *last = e && e->status ? e->status : "";
        char *text = NULL;
        int r;
        if (e && e->running)
                r = asprintf(&text, "checkpoint: running (stage: %s)\n%s", e->stage, last);
        else
                r = (text = strdup(last)) ? 0 : -1;
        pthread_mutex_unlock(&reg->lock);
        if (r < 0)
                return -ENOMEM;
        *ret_text = text;
        return 0;
}

int ckpt_registry_note_error(ckpt_registry *reg, const char *ns, const char *id, const char *msg) {
        if (!reg || !ns || !id || !msg)
                return -EINVAL;
        char *report = NULL, *status = NULL;
        /* One line of the message in status, all of it in the report. */
        size_t n = strcspn(msg, "\n");
        if (asprintf(&report, "result: failed\nerror: EINVAL (%s)\nstage: parse\nmessage: %s\n", strerror(EINVAL),
                     msg) < 0)
                return -ENOMEM;
        if (asprintf(&status, "last_checkpoint: failed (parse, EINVAL): %.*s\n", (int) (n > 300 ? 300 : n), msg) < 0) {
                free(report);
                return -ENOMEM;
        }
        pthread_mutex_lock(&reg->lock);
        struct ckpt_entry *e = find(reg, ns, id);
        if (!e && !(e = add(reg, ns, id))) {
                pthread_mutex_unlock(&reg->lock);
                free(report);
                free(status);
                return -ENOMEM;
        }
        e->index[0] = '\0';
        free(e->report);
        free(e->status);
        e->report = report;
        e->status = status;
        pthread_mutex_unlock(&reg->lock);
        return 0;
}
