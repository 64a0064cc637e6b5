#!/usr/bin/env bash
# Installs everything ckptfs needs to build, test and demo on Debian bookworm.
# Idempotent and quiet when all is present. Builds CRIU 4.2.1 from Debian
# testing's source package unless a working CRIU >= 4.2 is already installed.
set -euo pipefail

PKGS=(
  build-essential pkg-config meson ninja-build
  libfuse3-dev fuse3
  libgrpc-dev protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev protobuf-compiler
  libjansson-dev libssl-dev libsqlite3-dev sqlite3 libcmocka-dev zlib1g-dev
  golang-github-containerd-containerd-dev golang-github-gogo-protobuf-dev golang-github-gogo-googleapis-dev
  golang-github-containerd-cgroups-dev   # the cgroup statistics .proto files (metrics.json)
  containerd runc iptables busybox-static
  rsync python3 dpkg-dev
  python3-protobuf # crit, the oracle of the CRIU image decoder's tests
  clang-14 libfuzzer-14-dev # tests/fuzz/run-fuzz.sh: the CRIU image decoder under libFuzzer
  skopeo umoci   # tests/integration/test-oci-tools.sh: OCI tools on the layouts in place
  systemd man-db # tests/integration/test-service.sh: systemd-analyze verify, man -l
  libcurl4-openssl-dev docker-registry # rpc/registry; tests/integration/test-registry.sh
  gdb elfutils   # tests/integration/test-proc-core.sh: gdb -c, eu-readelf and eu-stack on proc/<pid>/core
  restic         # tests/integration/test-import.sh: a restic backup/restore of layout/, imported
  podman         # tests/integration/test-convert.sh: a Podman checkpoint export converted for containerd
  # CRIU build dependencies
  libnl-3-dev libnet1-dev libcap-dev libbsd-dev libaio-dev libgnutls28-dev
  libnftables-dev uuid-dev
)
CRIU_VERSION=4.2.1
CRIU_SHA256=29ec0ee09e296479fe7048c80980e8ef1d0684d0b0204c2b101dfea19f6725b9
CRIU_BIN=/usr/local/sbin/criu
CRIU_PREFIX=/opt/ckptfs/criu-$CRIU_VERSION   # images/*.proto and crit; also in meson.build
LIBFUSE_VERSION=3.17.2
LIBFUSE_SHA256=3d932431ad94e86179e5265cddde1d67aa3bb2fb09a5bd35c641f86f2b5ed06f
LIBFUSE_PREFIX=/opt/ckptfs/libfuse-$LIBFUSE_VERSION   # also in meson.build

log() { echo "install-deps: $*" >&2; }

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

criu_ok() {
  local bin=$1 v
  [ -x "$bin" ] || return 1
  v=$("$bin" --version 2>/dev/null | sed -n 's/^Version: //p')
  [ -n "$v" ] || return 1
  # version >= 4.2
  [ "$(printf '%s\n%s\n' 4.2 "$v" | sort -V | head -n1)" = 4.2 ] || return 1
  "$bin" check >/dev/null 2>&1
}

# fetch_orig SUITE PACKAGE TARBALL_GLOB SHA256 WORKDIR: downloads PACKAGE's
# orig tarball from Debian SUITE's source packages into WORKDIR, checks its
# sha256 and prints its path. The deb-src entry is derived from the machine's
# own Debian sources (no host name written here) and removed afterwards.
fetch_orig() {
  local suite=$1 pkg=$2 glob=$3 sha=$4 work=$5 uri="" f tarball
  local list=/etc/apt/sources.list.d/ckptfs-$suite-src.sources
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '/^URIs:/ && $2 ~ /debian\/?$/ && $2 !~ /security/ {print $2; exit}' "$f")
    [ -n "$uri" ] && break
  done
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || { log "no Debian source URI found in the apt sources"; return 1; }
  printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" "$suite" > "$list"
  apt-get update -qq || { rm -f "$list"; return 1; }
  # Only the orig tarball is needed; apt may fail on the other files, so its
  # exit status is not trusted: the sha256 check below is what counts.
  (cd "$work" && apt-get source --download-only -qq "$pkg" >/dev/null 2>&1) || true
  rm -f "$list"
  apt-get update -qq >/dev/null 2>&1 || true
  tarball=$(compgen -G "$work/$glob" | grep -v "\.asc$" | head -n1) || true
  [ -n "$tarball" ] || { log "$pkg: $glob not found in $suite"; return 1; }
  echo "$sha  $tarball" | sha256sum -c --quiet - || { log "$pkg: $tarball sha256 mismatch"; return 1; }
  echo "$tarball"
}

# criu_source WORKDIR: unpacks the pinned, verified CRIU orig tarball in
# WORKDIR and prints the source tree's path.
criu_source() {
  local tarball
  tarball=$(fetch_orig forky criu "criu_${CRIU_VERSION}.orig.tar.*" "$CRIU_SHA256" "$1") || return 1
  tar -C "$1" -xf "$tarball"
  find "$1" -maxdepth 1 -type d -name 'criu-*' | head -n1
}

if ! criu_ok "$CRIU_BIN" && ! criu_ok "$(command -v criu || echo /nonexistent)"; then
  log "building CRIU $CRIU_VERSION from Debian testing's source package"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  src=$(criu_source "$work")
  make -C "$src" -j"$(nproc)" criu >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
  install -D -m 0755 "$src/criu/criu" "$CRIU_BIN"
  criu_ok "$CRIU_BIN" || { log "built CRIU fails 'criu check'"; "$CRIU_BIN" check || true; exit 1; }
  log "CRIU $("$CRIU_BIN" --version | sed -n 's/^Version: //p') installed at $CRIU_BIN"
  rm -rf "$work"
  trap - EXIT
fi

# CRIU's images/*.proto (proto/ generates the image decoder's code from
# them) and crit (the tests' oracle) from the same pinned source, in a
# private prefix, also when CRIU itself was installed otherwise. crit runs
# from there with Debian's python3 once the files its Makefiles would make
# are generated (../shared/notes/criu-format.md, last section).
criu_prefix_ok() {
  [ -f "$CRIU_PREFIX/images/core.proto" ] && [ -f "$CRIU_PREFIX/lib/pycriu/images/pb.py" ] &&
    [ -f "$CRIU_PREFIX/lib/pycriu/images/pb2dict.py" ] && [ -x "$CRIU_PREFIX/crit.sh" ] &&
    [ -f "$CRIU_PREFIX/crit/crit/__main__.py" ]
}
if ! criu_prefix_ok; then
  log "unpacking CRIU $CRIU_VERSION's images/ and crit into $CRIU_PREFIX"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  src=$(criu_source "$work")
  stage=$work/prefix
  mkdir -p "$stage/lib" "$stage/criu/include"
  cp -r "$src/images" "$stage/images"
  cp -r "$src/crit" "$stage/crit"
  cp -r "$src/lib/pycriu" "$stage/lib/pycriu"
  cp "$src/criu/include/magic.h" "$stage/criu/include/"
  cp "$src/scripts/magic-gen.py" "$stage/magic-gen.py"
  (cd "$stage" &&
   protos=$(ls images/*.proto | grep -v '/rpc\.proto$') &&
   protoc -I=images/ -I=/usr/include/ --python_out=lib/pycriu/images $protos &&
   protoc -I=images/ --python_out=lib/pycriu images/rpc.proto &&
   /usr/bin/python3 magic-gen.py criu/include/magic.h lib/pycriu/images/magic.py &&
   for p in $protos; do
     n=$(basename "$p" .proto | tr - _)
     [ "$n" = opts ] || echo "from .${n}_pb2 import *"
   done > lib/pycriu/images/pb.py &&
   echo "__version__ = '$CRIU_VERSION'" > crit/crit/version.py &&
   echo "__version__ = '$CRIU_VERSION'" > lib/pycriu/version.py) ||
    { log "CRIU $CRIU_VERSION: generating crit's python modules failed"; exit 1; }
  rm -rf "$CRIU_PREFIX"
  mkdir -p "$(dirname "$CRIU_PREFIX")"
  cp -r "$stage" "$CRIU_PREFIX"
  printf '#!/bin/sh\n# crit from CRIU %s, with Debian'"'"'s python3 (python3-protobuf)\nPYTHONPATH=%s/lib:%s/crit exec /usr/bin/python3 -m crit "$@"\n' \
    "$CRIU_VERSION" "$CRIU_PREFIX" "$CRIU_PREFIX" > "$CRIU_PREFIX/crit.sh"
  chmod 0755 "$CRIU_PREFIX/crit.sh"
  criu_prefix_ok || { log "CRIU $CRIU_VERSION: $CRIU_PREFIX is incomplete"; exit 1; }
  rm -rf "$work"
  trap - EXIT
fi

# libfuse >= 3.16 for FUSE passthrough (bookworm has 3.14): 3.17.2 from
# Debian trixie's source package with the package's own patches, as a static
# library in a private prefix that meson.build looks in first. Debian's
# libfuse3 and fusermount3 stay as they are.
if ! PKG_CONFIG_PATH=$LIBFUSE_PREFIX/lib/pkgconfig pkg-config --atleast-version=3.16 fuse3 2>/dev/null ||
   [ ! -f "$LIBFUSE_PREFIX/lib/libfuse3.a" ]; then
  log "building libfuse $LIBFUSE_VERSION from Debian trixie's source package into $LIBFUSE_PREFIX"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  tarball=$(fetch_orig trixie fuse3 "fuse3_${LIBFUSE_VERSION}.orig.tar.*" "$LIBFUSE_SHA256" "$work")
  debtar=$(compgen -G "$work/fuse3_${LIBFUSE_VERSION}-*.debian.tar.*" | head -n1) || true
  [ -n "$debtar" ] || { log "fuse3: the Debian patches of $LIBFUSE_VERSION were not downloaded"; exit 1; }
  tar -C "$work" -xf "$tarball"
  tar -C "$work" -xf "$debtar"
  src=$work/fuse-$LIBFUSE_VERSION
  if [ -f "$work/debian/patches/series" ]; then
    while read -r p; do
      [ -n "$p" ] && [ "${p#\#}" = "$p" ] || continue
      patch -d "$src" -p1 -s <"$work/debian/patches/$p" || { log "fuse3: patch $p does not apply"; exit 1; }
    done <"$work/debian/patches/series"
  fi
  (meson setup "$src/build" "$src" --prefix="$LIBFUSE_PREFIX" -Dlibdir=lib -Ddefault_library=static \
     -Dbuildtype=release -Dutils=false -Dexamples=false -Dtests=false &&
   ninja -C "$src/build" && rm -rf "$LIBFUSE_PREFIX" && ninja -C "$src/build" install) >"$work/build.log" 2>&1 ||
    { tail -30 "$work/build.log"; exit 1; }
  log "libfuse $(PKG_CONFIG_PATH=$LIBFUSE_PREFIX/lib/pkgconfig pkg-config --modversion fuse3) installed in $LIBFUSE_PREFIX"
  rm -rf "$work"
  trap - EXIT
fi
