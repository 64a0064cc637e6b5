/* Finishing what a checkpoint left when its process died midway: from the
 * records of the journal (checkpoint-journal.h), through containerd. */
#pragma once

#include <sys/types.h>

#include "checkpoint-journal.h"
#include "rpc.h"

/* Finishes the jobs in dir left by `owner` (0: by every owner that no longer
 * runs): resumes a task the owner paused and did not resume when it is
 * still paused (with the user's `exit` the dump stopped the task: nothing
 * to resume then), deletes the lease (containerd's GC then frees what it
 * held: an image that exists holds its own blobs), removes the dump
 * directory, then the record. Each containerd call has the client's
 * deadline. A job whose calls fail keeps its record for the next try.
 * Returns how many jobs were finished, or the -errno of the first failure
 * when none could be. */
int ckpt_journal_recover(rpc_client *c, const char *dir, pid_t owner);
/* Finishes one job (the same steps) and removes its record: 0, or the
 * -errno of the step that failed (the record stays). */
int ckpt_journal_finish(rpc_client *c, const char *dir, const ckpt_job *job);
