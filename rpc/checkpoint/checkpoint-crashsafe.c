#include "checkpoint-crashsafe.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint-journal.h"
#include "checkpoint-recover.h"
#include "checkpoint-space.h"
#include "log.h"
#include "monotime.h"

static ckpt_job job_of(const ckpt_run *t) {
        return (ckpt_job) {
                .owner = getpid(),
                .owner_start = t->journal.owner_start,
                .ns = (char *) t->ns,
                .id = (char *) t->id,
                .lease = t->lease_made ? (char *) t->lease : NULL,
                .dump_dir = *t->dirs.top ? (char *) t->dirs.top : NULL,
                .paused_by_us = t->may_have_paused,
                .resumed = t->resumed,
        };
}

int crashsafe_begin(ckpt_run *t) {
        const char *dir = ckpt_registry_journal_dir(t->reg);
        t->journal.lock_fd = -1;
        if (!dir)
                return 0;
        int r = ckpt_journal_lock(dir, t->ns, t->id, &t->journal.lock_fd);
        if (r == -EBUSY)
                return run_fail(t, EBUSY, "a checkpoint of %s runs in another process on this containerd", t->id);
        if (r < 0)
                return run_fail(t, -r, "cannot lock %s in the journal %s: %s", t->id, dir, strerror(-r));
        t->journal.owner_start = ckpt_process_start(getpid());
        t->journal.on = true;
        return crashsafe_note(t);
}

int crashsafe_note(ckpt_run *t) {
        if (!t->journal.on)
                return 0;
        ckpt_job j = job_of(t);
        int r = ckpt_journal_write(ckpt_registry_journal_dir(t->reg), &j);
        if (r < 0)
                return run_fail(t, -r, "cannot write the journal record of %s: %s", t->id, strerror(-r));
        return 0;
}

void crashsafe_end(ckpt_run *t) {
        if (!t->journal.on)
                return;
        const char *dir = ckpt_registry_journal_dir(t->reg);
        if (t->left_paused || t->lease_made) {
                /* containerd did not let us finish (killed, restarting):
                 * keep trying a while; else the guardian (when we end) or
                 * the next start does, from the record. */
                (void) crashsafe_note(t);
                ckpt_job j = job_of(t);
                struct timespec t0 = monotime_now();
                int r;
                while ((r = ckpt_journal_finish(t->c, dir, &j)) < 0 && monotime_ms_since(&t0) < T_SHORT)
                        monotime_sleep_ms(500);
                if (r < 0)
                        log_warning("checkpoint of %s/%s: left for recovery in %s (task %s, lease %s)", t->ns, t->id,
                                    dir, t->left_paused ? "paused" : "resumed", t->lease_made ? t->lease : "deleted");
        } else
                (void) ckpt_journal_remove(dir, t->ns, t->id);
        if (t->journal.lock_fd >= 0)
                close(t->journal.lock_fd);
        t->journal.lock_fd = -1;
        t->journal.on = false;
}

int crashsafe_check_room(ckpt_run *t) {
        if (!(t->parts & CKPT_PART_TASK) || !*t->dirs.top)
                return 0;   /* no dump, or the user's own directory */
        uint64_t need = ckpt_task_memory(t->task_pid);
        if (need)
                t->mem_estimate = need;   /* also for the report */
        ckpt_space s;
        if (need == 0 || ckpt_space_measure(t->work_root, ckpt_registry_content_root(t->reg), &s) < 0)
                return 0;   /* unknown: containerd and CRIU will say */
        char msg[512];
        if (ckpt_space_verdict(&s, need, msg, sizeof(msg)) < 0)
                return run_fail(t, ENOSPC, "%s; the task was not paused", msg);
        return 0;
}

static void *kill_later(void *arg) {
        monotime_sleep_ms((long) (intptr_t) arg);
        kill(getpid(), SIGKILL);
        return NULL;
}

void crashsafe_fault(ckpt_run *t, enum stage s) {
        long ms;
        if (!ckpt_registry_fault(t->reg, (int) s, &ms))
                return;
        log_warning("test fault: SIGKILL %ld ms into stage %s", ms, ckpt_stage_names[s]);
        pthread_t th;
        if (ms == 0 || pthread_create(&th, NULL, kill_later, (void *) (intptr_t) ms) != 0)
                kill(getpid(), SIGKILL);
        else
                pthread_detach(th);
}
