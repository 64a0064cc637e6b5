/* The words the user reads: `cat checkpoint`, the status line, the log. */
#include "checkpoint-report.h"
#include "errname.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void parts_text(unsigned parts, char out[64]) {
        snprintf(out, 64, "%s%s%s%s", parts & CKPT_PART_TASK ? " task" : "", parts & CKPT_PART_RW ? " rw" : "",
                 parts & CKPT_PART_IMAGE ? " image" : "", parts & CKPT_PART_RUNTIME ? " runtime" : "");
}

/* The stage a failed run failed in. */
static const char *failed_stage(const ckpt_run *t) {
        return ckpt_stage_names[t->failed_stage >= 0 ? t->failed_stage : (int) t->stage];
}

void run_report(ckpt_run *t, int r, char **ret_report, char **ret_status) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        if (!f)
                return;
        char parts[64];
        parts_text(t->parts ? t->parts : t->req->parts, parts);
        if (r == 0) {
                fprintf(f, "result: ok\n");
                if (t->req->image_path)
                        fprintf(f, "dump: %s (no image, as asked by image-path)\n", t->req->image_path);
                else {
                        uint64_t total = t->index_size;
                        for (size_t i = 0; i < t->n_descs; i++)
                                total += (uint64_t) t->descs[i].size;
                        if (t->rw_desc)
                                total += (uint64_t) t->rw_desc->size;
                        fprintf(f, "name: %s\nindex: %s\nsize: %llu bytes\n", t->req->name, t->index_digest,
                                (unsigned long long) total);
                }
                fprintf(f, "parts:%s\n", parts);
        } else {
                fprintf(f, "result: failed\nerror: %s (%s)\nstage: %s\nmessage: %s\n", errno_name(-r),
                        strerror(-r), failed_stage(t), t->msg);
                if (*t->criu) {
                        fprintf(f, "criu:");
                        for (const char *p = t->criu; *p;) {
                                size_t n = strcspn(p, "\n");
                                fprintf(f, " %.*s%s", (int) n, p, p[n] ? ";" : "");
                                p += n + (p[n] ? 1 : 0);
                        }
                        fputc('\n', f);
                }
                if (t->req->name)
                        fprintf(f, "name: %s (not created)\n", t->req->name);
                fprintf(f, "parts:%s\n", parts);
        }
        if (t->may_have_paused)
                fprintf(f, "task: %s\nfrozen: %ld ms\n", *t->after ? t->after : "running", t->frozen_ms);
        if (t->work_root)
                fprintf(f, "dump dir: under %s (task memory ~%llu MiB)\n", t->work_root,
                        (unsigned long long) (t->mem_estimate >> 20));
        if (*t->upload_note)
                fprintf(f, "upload: %s\n", t->upload_note);
        if (t->retention_note)
                fprintf(f, "retention: %s\n", t->retention_note);
        if (t->task_status == CONTAINERD__V1__TYPES__STATUS__PAUSED)
                fprintf(f, "task: paused (it was before; left as found)\n");
        for (int s = 0; s < N_STAGES; s++)
                if (t->stage_seen[s])
                        fprintf(f, "stage %s: %ld ms\n", ckpt_stage_names[s], t->stage_ms[s]);
        fprintf(f, "total: %ld ms\n", t->total_ms);
        if (r == 0 && !t->req->image_path) {
                ckpt_desc all[MAX_DESCS + 1];
                size_t n = 0;
                for (size_t i = 0; i < t->n_descs; i++)
                        all[n++] = t->descs[i];
                if (t->rw_desc)
                        all[n++] = (ckpt_desc) { .media_type = t->rw_desc->media_type, .digest = t->rw_desc->digest,
                                                 .size = t->rw_desc->size };
                for (size_t i = 0; i < n; i++)
                        fprintf(f, "blob: %s %s %lld\n", all[i].media_type, all[i].digest, (long long) all[i].size);
        }
        fclose(f);
        *ret_report = buf;

        char *status = NULL;
        int w;
        if (r == 0)
                w = asprintf(&status, "last_checkpoint: ok %s\n", t->req->name ? t->req->name : t->req->image_path);
        else {
                /* One line: the first line of the message, bounded. */
                size_t n = strcspn(t->msg, "\n");
                w = asprintf(&status, "last_checkpoint: failed (%s, %s): %.*s\n",
                             t->failed_stage >= 0 ? ckpt_stage_names[t->failed_stage] : "?", errno_name(-r),
                             (int) (n > 300 ? 300 : n), t->msg);
        }
        *ret_status = w < 0 ? NULL : status;
}

void run_log(const ckpt_run *t, int r) {
        if (r == 0 && t->req->image_path)
                log_info("checkpoint of %s/%s: a raw dump in %s, frozen %ld ms, total %ld ms", t->ns, t->id,
                         t->req->image_path, t->frozen_ms, t->total_ms);
        else if (r == 0)
                log_info("checkpoint %s of %s/%s: index %s, frozen %ld ms, total %ld ms", t->req->name, t->ns, t->id,
                         t->index_digest, t->frozen_ms, t->total_ms);
        else {
                /* CRIU's lines, on one line as in the report */
                char criu[2 * sizeof(t->criu)];
                size_t k = 0;
                for (const char *p = t->criu; *p && k + 3 < sizeof(criu); p++) {
                        if (*p == '\n')
                                criu[k++] = ';';
                        criu[k++] = *p == '\n' ? ' ' : *p;
                }
                criu[k] = 0;
                log_error("checkpoint of %s/%s failed in stage %s: %s: %s%s%s", t->ns, t->id, failed_stage(t),
                          errno_name(-r), t->msg, *criu ? "; CRIU: " : "", criu);
        }
        if (t->left_paused)
                log_error("the task of %s/%s is left %s", t->ns, t->id, t->after);
}
