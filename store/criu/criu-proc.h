/* The processes of a CRIU dump, for proc/: pstree.img's tree and, per
 * process, the task and thread state of its core-<pid>.img (a zombie has
 * only that image). Renders them as `ps -ef --forest`-like text, JSON and
 * /proc/PID/status-like text. Pure: no FUSE, no gRPC.
 *
 * Errors: corrupt images are -EBADMSG; the readers' errors pass through. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "criu-open.h"
#include "reader.h"

/* CRIU's task_state values (criu/include/pstree.h's TASK_*). */
enum { CRIU_TASK_ALIVE = 1, CRIU_TASK_DEAD = 2, CRIU_TASK_STOPPED = 3 };

struct criu_proc {
        uint32_t pid, ppid, pgid, sid;
        uint32_t *tids;
        size_t n_tids;
        char *comm;
        uint32_t state;      /* CRIU_TASK_*; 0 when the core has no tc */
        uint32_t exit_code;  /* a zombie's wait status (exit(7): 0x700) */
        uint64_t sigblk;
        bool has_creds;      /* the main thread's thread_core.creds */
        uint32_t uid[4];     /* uid euid suid fsuid */
        uint32_t gid[4];     /* gid egid sgid fsgid */
};

struct criu_procs {
        struct criu_proc *v;
        size_t n;
};

/* The processes of the dump's pstree.img (in its order, parents before
 * children), each with its core-<pid>.img. No pstree.img: -EBADMSG (a
 * damaged dump). */
int criu_procs_load(criu_open_fn open, void *userdata, struct criu_procs *ret_procs);
void criu_procs_clear(struct criu_procs *p);
const struct criu_proc *criu_procs_find(const struct criu_procs *p, uint32_t pid);

/* "running", "stopped", "zombie", or "unknown". */
const char *criu_proc_state_name(uint32_t state);
/* 'R', 'T', 'Z', or '?'. */
char criu_proc_state_char(uint32_t state);

/* criu-proc-render.c. ps: a header "PID PPID PGID SID STATE THREADS
 * COMMAND", then one line per process, children below their parent with
 * COMMAND indented as `ps --forest` does. */
int criu_procs_ps_text(const struct criu_procs *p, char **ret, size_t *ret_len);
/* ps.json: [{"pid", "ppid", "pgid", "sid", "state", "threads": [tids],
 * "comm"}], and for zombies "exit_code" (the status it exited with, 7 for
 * exit(7)) or "exit_signal" (the signal that ended it). */
int criu_procs_ps_json(const struct criu_procs *p, json_t **ret_json);
/* /proc/<pid>/status-like: Name, State, Tgid, Pid, PPid, Uid, Gid (when
 * the core has creds), Threads, SigBlk. */
int criu_proc_status(const struct criu_proc *proc, char **ret, size_t *ret_len);
