/* Stopped processes and the cgroup v1 freezer (checkpoint-stopped.h). */
#include "checkpoint-stopped.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

char ckpt_stat_state(const char *line, size_t len) {
        /* The command is in parentheses and may hold anything: the state
         * follows the last ") ". */
        for (size_t i = len; i >= 2; i--)
                if (line[i - 2] == ')' && line[i - 1] == ' ')
                        return i < len ? line[i] : 0;
        return 0;
}

bool ckpt_host_v1_freezer(void) {
        struct statfs fs;
        if (statfs("/sys/fs/cgroup", &fs) < 0 || fs.f_type == CGROUP2_SUPER_MAGIC)
                return false;
        struct stat st;
        return stat("/sys/fs/cgroup/freezer", &st) == 0 && S_ISDIR(st.st_mode);
}

static char state_of(pid_t pid) {
        char path[64], line[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, line, sizeof(line));
        close(fd);
        return n > 0 ? ckpt_stat_state(line, (size_t) n) : 0;
}

int ckpt_find_stopped(const pid_t *pids, size_t n, pid_t *ret_pid) {
        for (size_t i = 0; i < n; i++)
                if (pids[i] > 0 && state_of(pids[i]) == 'T') {
                        *ret_pid = pids[i];
                        return 1;
                }
        return 0;
}
