/* A process stopped by a signal (state T) in a container whose task would
 * be frozen by the cgroup v1 freezer: CRIU then hangs in the kernel seizing
 * it (ptrace attach waits for a trap transition a frozen task never makes;
 * seen on Linux 6.18 with runc 1.1.5, `ctr c checkpoint` hangs the same
 * way). The checkpoint is refused before the pause instead, with the pid
 * named. Host facts only (/proc, /sys/fs/cgroup): a pid that is not in this
 * host's /proc is not examined. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The state letter of a /proc/<pid>/stat line (after the ")" that ends the
 * command, which may itself hold ") "), or 0 when the line does not parse.
 * Pure. */
char ckpt_stat_state(const char *line, size_t len);

/* Whether tasks are frozen through a cgroup v1 freezer hierarchy here. */
bool ckpt_host_v1_freezer(void);

/* The first of pids[0..n) that is stopped (state T) in this host's /proc:
 * 1 and *ret_pid, or 0 when none is. */
int ckpt_find_stopped(const pid_t *pids, size_t n, pid_t *ret_pid);
