#!/usr/bin/env bash
# Builds the libFuzzer targets of the CRIU decoders with clang (ASan, UBSan)
# over the store sources they need, seeds their corpora at run time and
# fuzzes each for a fixed share of the time:
#   fuzz-criu-image  one image (criu_image_json, the record iterator, the
#                    fds/sockets/mounts views); seeds: every magic of the
#                    build's criu_magic.h, the images of tests/fuzz/seeds/
#                    (crit encode of a real busybox dump's JSON) and the *.img
#                    files of $CKPTFS_FUZZ_SEEDS when set
#   fuzz-criu-dump   a dump of several images (proc/: processes, memory,
#                    core files, fds); seed: the same dump as one archive
# Exit 77 (skip) without clang/libFuzzer; non-zero on a crash or a
# sanitizer report.
# Usage: run-fuzz.sh SRCDIR BUILDDIR [SECONDS]
set -euo pipefail
src=$1 build=$2 secs=${3:-60}
CC=${FUZZ_CC:-clang-14}
if ! command -v "$CC" >/dev/null || ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "SKIP: $CC or libFuzzer missing (apt-get install clang-14 libfuzzer-14-dev)"
  exit 77
fi
proto=$build/proto
[ -f "$proto/criu_magic.h" ] || { echo "SKIP: no CRIU protobuf code in $proto"; exit 77; }
work=$(mktemp -d)
[ -n "${FUZZ_KEEP:-}" ] && echo "fuzz work dir: $work" || trap 'rm -rf "$work"' EXIT
# What a failing run found stays beside the build's logs.
art=$(cd "$build" && pwd)/meson-logs/fuzz-artifacts
mkdir -p "$art"
build_target() { # NAME
  # shellcheck disable=SC2046
  "$CC" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -w -D_GNU_SOURCE \
    -I"$src/store/criu" -I"$src/store/core" -I"$src/store/base" -I"$proto" -I"$src/proto" \
    $(pkg-config --cflags jansson libprotobuf-c) \
    "$src/tests/fuzz/$1.c" "$src"/store/criu/*.c "$src/store/core/reader.c" \
    "$src/store/core/pbjson.c" "$src"/store/base/*.c "$proto"/criu_*.pb-c.c "$proto/criu-fieldopts-table.c" "$src/proto/pbmsg.c" \
    $(pkg-config --libs jansson libprotobuf-c libcrypto) -lz -lpthread -o "$work/$1"
}
build_target fuzz-criu-image
build_target fuzz-criu-dump
mkdir "$work/corpus"
n=0
# Seeds: the common magic and each image's magic, then one empty record.
for m in $(sed -n 's/^#define [A-Z0-9_]*_MAGIC[[:space:]]*\(0x[0-9a-fA-F]*\).*/\1/p' "$proto/criu_magic.h"); do
  python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<III", 0x54564319, int(sys.argv[1], 16), 0))' "$m" \
    >"$work/corpus/seed-$n"
  n=$((n + 1))
done
if [ -n "${CKPTFS_FUZZ_SEEDS:-}" ]; then
  find "$CKPTFS_FUZZ_SEEDS" -name '*.img' -size -256k -exec cp -t "$work/corpus" {} + 2>/dev/null || true
fi
# The real dump's images, from their JSON (crit is the encoder: the oracle
# of the decoders), and the same dump as one archive for fuzz-criu-dump.
crit=${CRIT:-/opt/ckptfs/criu-4.2.1/crit.sh}
mkdir "$work/dump" "$work/dump-corpus"
if [ -x "$crit" ]; then
  for j in "$src"/tests/fuzz/seeds/busybox/*.json; do
    b=$(basename "$j" .json)
    "$crit" encode -i "$j" -o "$work/dump/$b.img" && cp "$work/dump/$b.img" "$work/corpus/seed-$b.img"
  done
  /usr/bin/python3 - "$src/tests/fuzz/seeds/busybox" "$work/dump" "$work/dump-corpus/busybox" <<'PY'
import json, os, struct, sys
seeds, imgs, out = sys.argv[1:4]
# pages-N.img stand-ins: the size the pagemaps give (4096 x present pages)
sizes = {}
for f in os.listdir(seeds):
    if f.startswith('pagemap-'):
        e = json.load(open(os.path.join(seeds, f)))['entries']
        n = sum(x['nr_pages'] for x in e[1:] if x.get('flags', 4) & 4)
        sizes['pages-%d.img' % e[0]['pages_id']] = 4096 * n
with open(out, 'wb') as o:
    def put(name, data):
        o.write(name.encode() + b'\0' + struct.pack('<I', len(data)) + data)
    for f in sorted(os.listdir(imgs)):
        put(f, open(os.path.join(imgs, f), 'rb').read())
    for name, size in sorted(sizes.items()):
        put(name, struct.pack('<Q', size))
PY
else
  echo "no crit at $crit: no dump seeds"
fi
cd "$work"
# libFuzzer exits 77 on a finding by default: meson would call that a skip
half=$(((secs + 1) / 2))
"$work/fuzz-criu-image" -error_exitcode=1 -max_total_time="$half" -rss_limit_mb=1024 -max_len=65536 -print_final_stats=1 -artifact_prefix="$art/image-" "$work/corpus"
"$work/fuzz-criu-dump" -error_exitcode=1 -max_total_time="$half" -rss_limit_mb=1024 -max_len=131072 -print_final_stats=1 -artifact_prefix="$art/dump-" "$work/dump-corpus"
