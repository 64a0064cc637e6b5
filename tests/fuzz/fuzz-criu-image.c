/* libFuzzer target of the CRIU image decoder: the input as a CRIU image in a
 * memory store_reader, through criu_image_json() and the record iterator.
 * Corrupt data must give an error, never a crash or a sanitizer report
 * (criu-image.h). Built and run by tests/fuzz/run-fuzz.sh. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "criu-image.h"
#include "reader.h"

struct mem {
        const uint8_t *data;
        size_t size;
};

static ssize_t mem_pread(void *ctx, void *buf, size_t len, uint64_t off) {
        const struct mem *m = ctx;

        if (off >= m->size)
                return 0;
        if (len > m->size - off)
                len = m->size - off;
        memcpy(buf, m->data + off, len);
        return (ssize_t)len;
}

static void iterate(struct store_reader *r) {
        struct criu_image *img = NULL;
        struct criu_record rec;

        if (criu_image_open(r, &img) < 0)
                return;
        (void)criu_image_kind(img);
        while (criu_image_next(img, &rec) > 0)
                criu_record_done(&rec);
        criu_image_free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct mem m = { data, size };
        struct store_reader *r = NULL;
        json_t *j = NULL;

        if (store_reader_new(mem_pread, NULL, &m, size, &r) < 0)
                return 0;
        if (criu_image_json(r, &j) == 0)
                json_decref(j);
        iterate(r);
        store_reader_free(r);
        return 0;
}
