/* The journal of running checkpoints: one small JSON file per checkpoint in
 * a directory shared by every ckptfs of one containerd (by default
 * /run/ckptfs/<hash of the socket>/: a tmpfs, emptied at boot together with
 * the tasks it speaks of). A record is written before anything a crash could
 * leave behind exists, updated before the task is paused and after it is
 * resumed, and removed once the checkpoint is cleaned up. So after any death
 * it says what to finish: a task the dead process paused and did not resume,
 * the lease holding what it wrote, its private dump directory.
 * ckpt_journal_recover() (checkpoint-recover.h) finishes those jobs; the guardian
 * (checkpoint-guard.h) runs it within moments of the death, the next start
 * runs it for owners that are gone.
 *
 * The same directory holds one lock file per container: ckpt_journal_lock()
 * makes "one checkpoint of a container at a time" hold across processes.
 *
 * Records are written whole under a temporary name and renamed, so a reader
 * sees the old or the new record, never a part. No shared state: every
 * function is thread-safe. Errors: 0 or -errno. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


#define CKPT_JOURNAL_ROOT "/run/ckptfs"

typedef struct ckpt_job {
        pid_t owner;             /* the process running the checkpoint */
        uint64_t owner_start;    /* its start time (/proc/PID/stat), against pid reuse */
        char *ns, *id;
        char *lease;             /* NULL: none made (yet) */
        char *dump_dir;          /* a private directory to remove; NULL: none */
        bool paused_by_us;       /* Tasks.Pause was (maybe) sent by the owner */
        bool resumed;            /* ... and the task was resumed since */
} ckpt_job;

void ckpt_job_clear(ckpt_job *j);

/* The journal directory of the containerd at `address` under `root`
 * (NULL: CKPT_JOURNAL_ROOT), created (0700) if missing. *ret is malloc'd. */
int ckpt_journal_dir(const char *root, const char *address, char **ret);

/* Creates or replaces the record of (job->ns, job->id) in dir. ns and id
 * must be containerd identifiers (no '/', not starting with '.'): -EINVAL
 * otherwise. */
int ckpt_journal_write(const char *dir, const ckpt_job *job);
/* Removes the record of (ns, id); a missing one is success. */
int ckpt_journal_remove(const char *dir, const char *ns, const char *id);
/* Every record in dir (unreadable ones are skipped). *ret is an array of
 * *ret_n jobs; free each with ckpt_job_clear() and the array with free(). */
int ckpt_journal_list(const char *dir, ckpt_job **ret, size_t *ret_n);

/* The start time of process pid in clock ticks since boot; 0 if it does not
 * run. */
uint64_t ckpt_process_start(pid_t pid);

/* Takes the lock of container (ns, id) for this process: -EBUSY when
 * another process (another ckptfs on the same containerd) holds it. On
 * success *ret_fd holds it until closed; the kernel drops it if the process
 * dies. */
int ckpt_journal_lock(const char *dir, const char *ns, const char *id, int *ret_fd);
