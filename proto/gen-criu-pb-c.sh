#!/bin/sh
# Runs protoc-c over CRIU's images/*.proto (from the private CRIU source
# prefix, scripts/install-deps.sh) and writes the results under flat names:
# "core-x86.proto" becomes "criu_core_x86.pb-c.{c,h}", and the
# google/protobuf/descriptor.proto that opts.proto extends becomes
# "criu_google_descriptor.pb-c.{c,h}". Includes between generated files are
# rewritten to match. Also copies CRIU's magic.h (plain #defines of the image
# magics) as criu_magic.h.
# usage: gen-criu-pb-c.sh PREFIX OUTDIR NAME...   (NAME: "core-x86", no .proto)
set -eu
prefix=$1 out=$2; shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
protos=""
for n in "$@"; do protos="$protos $prefix/images/$n.proto"; done
# shellcheck disable=SC2086
protoc-c -I"$prefix/images" -I/usr/include --c_out="$tmp" $protos google/protobuf/descriptor.proto \
  2>"$tmp/protoc.log" || { cat "$tmp/protoc.log" >&2; exit 1; }
fix() {
  sed -e 's|#include "google/protobuf/descriptor.pb-c.h"|#include "criu_google_descriptor.pb-c.h"|' \
      -e '/^#include "[^"]*\.pb-c\.h"/{/criu_google_/!{s|#include "|#include "criu_|;s|\.pb-c\.h"|.PBCH"|;s|-|_|g;s|\.PBCH"|.pb-c.h"|}}' "$1" > "$2"
}
for n in "$@"; do
  f=criu_$(printf '%s' "$n" | tr - _)
  fix "$tmp/$n.pb-c.c" "$out/$f.pb-c.c"
  fix "$tmp/$n.pb-c.h" "$out/$f.pb-c.h"
done
fix "$tmp/google/protobuf/descriptor.pb-c.c" "$out/criu_google_descriptor.pb-c.c"
fix "$tmp/google/protobuf/descriptor.pb-c.h" "$out/criu_google_descriptor.pb-c.h"
cp "$prefix/criu/include/magic.h" "$out/criu_magic.h"
