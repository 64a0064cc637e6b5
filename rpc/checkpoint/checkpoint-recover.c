#include "checkpoint-recover.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoint-journal.h"
#include "checkpoint-workdir.h"
#include "containerd.h"
#include "log.h"

/* Only our own private dump directories are ever removed, whatever a
 * record says. */
static bool private_dump_dir(const char *path) {
        const char *base = strrchr(path, '/');
        return path[0] == '/' && base && strncmp(base + 1, "ckptfs-dump-", 12) == 0 && !strstr(path, "/../");
}

static int resume_if_paused(rpc_client *c, const ckpt_job *j) {
        rpc_opts o = { .ns = j->ns };
        rpc_error err = { 0 };
        int r = rpc_tasks_frozen(c, &o, j->id, &err);
        if (r < 0)
                return log_warning_errno(r, "task %s/%s: cannot read its state: %s", j->ns, j->id, err.message);
        if (r == 0)
                return 0;   /* gone, running or stopped: nothing is frozen */
        r = rpc_tasks_resume(c, &o, j->id, &err);
        if (r < 0)
                return log_error_errno(r, "task %s/%s stays paused: resuming it failed: %s", j->ns, j->id,
                                       err.message);
        log_warning("resumed task %s/%s, left paused by checkpointing process %d that ended midway", j->ns, j->id,
                    (int) j->owner);
        return 1;
}

int ckpt_journal_finish(rpc_client *c, const char *dir, const ckpt_job *j) {
        int r = 0;
        if (j->paused_by_us && !j->resumed && (r = resume_if_paused(c, j)) < 0)
                return r;
        if (j->lease) {
                rpc_opts o = { .ns = j->ns };
                rpc_error err = { 0 };
                r = rpc_leases_delete(c, &o, j->lease, false, &err);
                if (r < 0 && r != -ENOENT)
                        return log_warning_errno(r, "lease %s of a checkpoint of %s/%s: cannot delete it: %s",
                                                 j->lease, j->ns, j->id, err.message);
        }
        if (j->dump_dir && private_dump_dir(j->dump_dir) && (r = ckpt_rm_rf(j->dump_dir)) < 0)
                return log_warning_errno(r, "cannot remove the dump directory %s", j->dump_dir);
        log_info("finished the checkpoint of %s/%s that process %d left midway (lease %s deleted)", j->ns, j->id,
                 (int) j->owner, j->lease ? j->lease : "none");
        return ckpt_journal_remove(dir, j->ns, j->id);
}

static bool owner_gone(const ckpt_job *j) {
        return ckpt_process_start(j->owner) != j->owner_start;
}

int ckpt_journal_recover(rpc_client *c, const char *dir, pid_t owner) {
        ckpt_job *jobs = NULL;
        size_t n = 0;
        int r = ckpt_journal_list(dir, &jobs, &n);
        if (r < 0)
                return r;
        int done = 0, first_err = 0;
        for (size_t i = 0; i < n; i++) {
                if (owner ? jobs[i].owner != owner : !owner_gone(&jobs[i]))
                        continue;
                int k = ckpt_journal_finish(c, dir, &jobs[i]);
                if (k >= 0)
                        done++;
                else if (!first_err)
                        first_err = k;
        }
        for (size_t i = 0; i < n; i++)
                ckpt_job_clear(&jobs[i]);
        free(jobs);
        return done == 0 && first_err ? first_err : done;
}
