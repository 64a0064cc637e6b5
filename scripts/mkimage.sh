#!/usr/bin/env bash
# Builds, without any registry, a tiny OCI image (OCI layout, tarred) for tests:
#
#   scripts/mkimage.sh OUT.tar [NAME]     (NAME: docker.io/library/ckptfs-busybox:latest)
#
# Root filesystem: /bin/busybox (Debian's busybox-static) with a symlink in
# /bin for every applet it has (sh, sleep, cat, echo, httpd, ls, ...), a static
# /bin/memhog built from tests/fixtures/memhog.c, a static /bin/workload from
# tests/fixtures/workload.c (threads, files, sockets, children), /tmp (1777), /www/index.html
# (for `httpd -f -p PORT -h /www`), and empty /etc, /proc, /sys, /dev, /root.
# Config: Cmd ["sh"], Env PATH=/bin. One uncompressed-then-gzipped layer.
#
# Load it with:  ctr -n NS images import OUT.tar
#
# The output is reproducible: same inputs (busybox binary, memhog.c, compiler,
# NAME) give byte-identical tarballs, so the same digests.
set -euo pipefail

die() { echo "mkimage: $*" >&2; exit 1; }

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: $0 OUT.tar [NAME]"
out=$1
name=${2:-docker.io/library/ckptfs-busybox:latest}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${MKIMAGE_MEMHOG_SRC:-$here/../tests/fixtures/memhog.c}
wl_src=$here/../tests/fixtures/workload.c
busybox=${MKIMAGE_BUSYBOX:-/bin/busybox}

[ -f "$src" ] || die "memhog source not found: $src"
[ -x "$busybox" ] || die "$busybox not found (apt-get install busybox-static)"
if command -v file >/dev/null && ! file -L "$busybox" | grep -q 'statically linked'; then
  die "$busybox is not statically linked (Debian's busybox-static is)"
fi

case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) arch=$(dpkg --print-architecture) ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/ckptfs-mkimage.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
layout=$work/layout
mkdir -p "$root"/{bin,etc,proc,sys,dev,root,www,tmp} "$layout/blobs/sha256"
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"

install -m 0755 "$busybox" "$root/bin/busybox"
# Build in a fixed directory name so nothing path-dependent can leak in.
mkdir -p "$work/src"
cp "$src" "$work/src/memhog.c"
(cd "$work/src" && ${CC:-cc} -static -O2 -Wall -o memhog memhog.c) ||
  die "compiling memhog failed (needs libc6-dev for static linking)"
strip "$work/src/memhog" 2>/dev/null || true
install -m 0755 "$work/src/memhog" "$root/bin/memhog"
cp "$wl_src" "$work/src/workload.c"
(cd "$work/src" && ${CC:-cc} -static -O2 -Wall -pthread -o workload workload.c) ||
  die "compiling workload failed"
strip "$work/src/workload" 2>/dev/null || true
install -m 0755 "$work/src/workload" "$root/bin/workload"

for applet in $("$busybox" --list); do
  case "$applet" in busybox | memhog | workload | */*) continue ;; esac
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
printf 'hello from ckptfs-busybox\n' >"$root/www/index.html"
chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/www/index.html"

# Reproducible tar: sorted, fixed times and owners, no atime/ctime pax headers.
rtar() {
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    "$@"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
put_blob() { # FILE -> prints digest hex; moves FILE into blobs
  local d
  d=$(sha "$1")
  mv "$1" "$layout/blobs/sha256/$d"
  echo "$d"
}

rtar -C "$root" -cf "$work/layer.tar" .
diff_id=$(sha "$work/layer.tar")
gzip -n -6 "$work/layer.tar"
layer_size=$(size "$work/layer.tar.gz")
layer=$(put_blob "$work/layer.tar.gz")

printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"ckptfs scripts/mkimage.sh","comment":"busybox-static + memhog"}]}' \
  "$arch" "$diff_id" >"$work/config.json"
config_size=$(size "$work/config.json")
config=$(put_blob "$work/config.json")

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
manifest_size=$(size "$work/manifest.json")
manifest=$(put_blob "$work/manifest.json")

# JSON-escape the name (quotes and backslashes only; names are plain ASCII).
jname=${name//\\/\\\\}
jname=${jname//\"/\\\"}
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s"},"platform":{"architecture":"%s","os":"linux"}}]}' \
  "$manifest" "$manifest_size" "$jname" "$arch" >"$layout/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"

mkdir -p "$(dirname "$out")"
rtar -C "$layout" -cf "$work/image.tar" oci-layout index.json blobs
mv -f "$work/image.tar" "$out"
echo "mkimage: $out: $name manifest sha256:$manifest ($(size "$out") bytes)" >&2
