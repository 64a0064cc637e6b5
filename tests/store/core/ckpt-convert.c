/* ckpt-convert ARCHIVE OUTDIR [name=REF] [image=REF] [runtime=NAME]
 * [snapshotter=NAME]: a kubelet/CRI, CRI-O or Podman checkpoint archive
 * into a containerd checkpoint image as an OCI layout (store/core's
 * archive.h), for the integration tests: `tar -C OUTDIR -c . | ctr images
 * import --no-unpack -`. Prints key: value lines; exit 1 with the reason
 * on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "reader.h"

static const char *arg(int argc, char **argv, const char *key) {
        size_t n = strlen(key);
        for (int i = 3; i < argc; i++)
                if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=')
                        return argv[i] + n + 1;
        return NULL;
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: %s ARCHIVE OUTDIR [name=REF] [image=REF] [runtime=NAME] [snapshotter=NAME]\n",
                        argv[0]);
                return 2;
        }
        int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        struct store_reader *file = NULL;
        if (fd < 0 || store_reader_from_fd(fd, &file) < 0) {
                fprintf(stderr, "ckpt-convert: cannot open %s: %m\n", argv[1]);
                return 1;
        }
        char err[512] = "";
        store_archive *a = NULL;
        int r = store_archive_open(file, &a, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "ckpt-convert: %s: %s (%s)\n", argv[1], err, strerror(-r));
                store_reader_free(file);
                return 1;
        }
        const char *name = arg(argc, argv, "name");
        store_convert_opts o = { .name = name ? name : "ckpt-convert/imported:latest",
                                 .image = arg(argc, argv, "image"),
                                 .runtime = arg(argc, argv, "runtime"),
                                 .snapshotter = arg(argc, argv, "snapshotter") };
        store_convert_result res;
        r = store_archive_convert(a, &o, argv[2], &res, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "ckpt-convert: %s (%s)\n", err, strerror(-r));
                store_archive_free(a);
                return 1;
        }
        printf("kind: %s\nname: %s\nindex: %s\nindex_size: %lld\ncriu_files: %llu\ncriu_size: %llu\n",
               store_archive_kind_name(store_archive_get_kind(a)), o.name, res.index_digest,
               (long long) res.index_size, (unsigned long long) res.criu_members,
               (unsigned long long) res.criu_size);
        printf("rw_size: %lld\nrw_recompressed: %d\nroot_fixed: %u\n", (long long) res.rw_size, res.rw_recompressed,
               res.root_fixed);
        store_archive_free(a);
        return 0;
}
