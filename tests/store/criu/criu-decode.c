/* criu-decode FILE: prints the CRIU image FILE as JSON, as
 * `crit decode --pretty -i FILE` would (store/criu). Exit status 0, 3 when
 * FILE is not a record image (no known magic: pages-N.img and the like),
 * 1 on any other error. For the integration test against crit. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "criu-image.h"
#include "json.h"
#include "reader.h"

int main(int argc, char **argv) {
        if (argc != 2) {
                fprintf(stderr, "usage: criu-decode FILE\n");
                return 1;
        }
        int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        _cleanup_store_reader_ struct store_reader *r = NULL;
        int k = store_reader_from_fd(fd, &r);
        if (k < 0) {
                close(fd);
                fprintf(stderr, "%s: %s\n", argv[1], strerror(-k));
                return 1;
        }
        _cleanup_criu_image_ struct criu_image *img = NULL;
        if (criu_image_open(r, &img) == -EBADMSG)
                return 3;
        _cleanup_json_ json_t *j = NULL;
        k = criu_image_json(r, &j);
        if (k < 0) {
                fprintf(stderr, "%s: %s\n", argv[1], strerror(-k));
                return 1;
        }
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (json_dump_text(j, JSON_INDENT(4), &text, &len) < 0 || fwrite(text, 1, len, stdout) != len)
                return 1;
        return 0;
}
