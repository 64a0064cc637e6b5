/* The guardian: a small child process that outlives a ckptfs killed in the
 * middle of a checkpoint (SIGKILL, the OOM killer) and finishes the job
 * within moments: resumes the task the checkpoint paused, deletes its lease,
 * removes its dump directory (ckpt_journal_recover() on the journal records
 * of the dead process).
 *
 * It learns of the death through a pipe: the caller keeps the only write
 * end (close-on-exec), so the guardian's read returns end-of-file exactly
 * when the caller is gone, however it ended. After a clean exit there is
 * nothing left in the journal and the guardian just exits. It ignores the
 * terminal's and the service manager's SIGINT/SIGTERM/SIGHUP: its caller's
 * end is what ends it.
 *
 * Call ckpt_guard_spawn() before any thread or gRPC state exists in the
 * process (it forks; the child creates its own containerd client only once
 * the caller is gone). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct ckpt_guard_config {
        const char *address;       /* containerd's socket */
        int64_t timeout_ms;        /* deadline of each call (0: the client's default) */
        const char *journal_dir;   /* see ckpt_journal_dir() */
        int64_t retry_for_ms;      /* how long to retry while containerd is away (0: 10 minutes) */
        bool detach;               /* stdio to /dev/null, log to syslog: for a daemon in the
                                    * background, whose terminal and pipes must not stay open */
} ckpt_guard_config;

/* Forks the guardian. On success *ret_fd is the write end of its pipe: keep
 * it open for the life of the process (closing it sets the guardian off).
 * *ret_pid (may be NULL) gets its pid. */
int ckpt_guard_spawn(const ckpt_guard_config *cfg, int *ret_fd, int *ret_pid);
