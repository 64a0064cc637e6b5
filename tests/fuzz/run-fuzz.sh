#!/usr/bin/env bash
# Builds tests/fuzz/fuzz-criu-image.c with clang and libFuzzer (ASan, UBSan)
# over the store sources it needs, seeds a corpus at run time (every magic of
# the build's criu_magic.h, plus the *.img files of $CKPTFS_FUZZ_SEEDS when
# set) and fuzzes for a fixed time. Exit 77 (skip) without clang/libFuzzer;
# non-zero on a crash or a sanitizer report.
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
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2046
"$CC" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -w -D_GNU_SOURCE \
  -I"$src/store/criu" -I"$src/store/core" -I"$src/store/base" -I"$proto" -I"$src/proto" \
  $(pkg-config --cflags jansson libprotobuf-c) \
  "$src/tests/fuzz/fuzz-criu-image.c" "$src"/store/criu/*.c "$src/store/core/reader.c" \
  "$src/store/core/pbjson.c" "$src"/store/base/*.c "$proto"/criu_*.pb-c.c "$proto/criu-fieldopts-table.c" "$src/proto/pbmsg.c" \
  $(pkg-config --libs jansson libprotobuf-c libcrypto) -lz -lpthread -o "$work/fuzz"
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
cd "$work"
"$work/fuzz" -max_total_time="$secs" -rss_limit_mb=1024 -max_len=65536 -print_final_stats=1 "$work/corpus"
