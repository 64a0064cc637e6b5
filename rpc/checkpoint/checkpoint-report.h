/* What the user and the log read of a checkpoint (checkpoint-report.c). */
#pragma once

#include "checkpoint-run.h"

/* The text of `cat checkpoint` and the status line of the run that ended
 * with `r` (both malloc'd; NULL on out-of-memory). */
void run_report(ckpt_run *t, int r, char **ret_report, char **ret_status);
/* Logs the outcome once: info for a checkpoint that ended well (name,
 * index digest, frozen window, total), error for one that failed (stage,
 * errno name, the message of containerd or CRIU), and error for a task
 * left paused. */
void run_log(const ckpt_run *t, int r);
