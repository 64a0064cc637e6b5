/* criu-core DIR PID: writes the ELF core file of process PID of the CRIU
 * dump extracted in DIR to stdout, as proc/<pid>/core serves it
 * (store/criu's criu-coredump.h). Exit status 0, 1 on any error. For
 * looking at a dump with gdb without a mount. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "criu-coredump.h"
#include "reader.h"

static int open_member(void *ctx, const char *name, struct store_reader **ret) {
        char path[4096];
        if (snprintf(path, sizeof(path), "%s/%s", (const char *) ctx, name) >= (int) sizeof(path))
                return -ENAMETOOLONG;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int k = store_reader_from_fd(fd, ret);
        if (k < 0)
                close(fd);
        return k;
}

int main(int argc, char **argv) {
        if (argc != 3) {
                fprintf(stderr, "usage: criu-core DIR PID\n");
                return 1;
        }
        _cleanup_store_reader_ struct store_reader *r = NULL;
        int k = criu_coredump_open(open_member, argv[1], (uint32_t) strtoul(argv[2], NULL, 10), &r);
        if (k < 0) {
                fprintf(stderr, "criu-core: %s\n", strerror(-k));
                return 1;
        }
        static char buf[1 << 16];
        for (uint64_t off = 0; off < r->size;) {
                ssize_t n = store_reader_pread(r, buf, sizeof(buf), off);
                if (n <= 0) {
                        fprintf(stderr, "criu-core: read at %llu: %s\n", (unsigned long long) off,
                                n < 0 ? strerror((int) -n) : "short");
                        return 1;
                }
                if (fwrite(buf, 1, (size_t) n, stdout) != (size_t) n)
                        return 1;
                off += (uint64_t) n;
        }
        return fflush(stdout) == 0 ? 0 : 1;
}
