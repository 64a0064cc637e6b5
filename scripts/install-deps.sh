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
  golang-github-containerd-containerd-dev golang-github-gogo-protobuf-dev
  containerd runc iptables busybox-static
  rsync python3 dpkg-dev
  # CRIU build dependencies
  libnl-3-dev libnet1-dev libcap-dev libbsd-dev libaio-dev libgnutls28-dev
  libnftables-dev uuid-dev
)
CRIU_VERSION=4.2.1
CRIU_SHA256=29ec0ee09e296479fe7048c80980e8ef1d0684d0b0204c2b101dfea19f6725b9
CRIU_BIN=/usr/local/sbin/criu

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

if ! criu_ok "$CRIU_BIN" && ! criu_ok "$(command -v criu || echo /nonexistent)"; then
  log "building CRIU $CRIU_VERSION from Debian testing's source package"
  work=$(mktemp -d)
  list=/etc/apt/sources.list.d/ckptfs-forky-src.sources
  cleanup() { rm -f "$list"; rm -rf "$work"; apt-get update -qq >/dev/null 2>&1 || true; }
  trap cleanup EXIT
  # Derive the deb-src entry from the machine's own Debian sources (no host name written here).
  uri=""
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '/^URIs:/ && $2 ~ /debian\/?$/ && $2 !~ /security/ {print $2; exit}' "$f")
    [ -n "$uri" ] && break
  done
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || { log "no Debian source URI found in the apt sources"; exit 1; }
  printf 'Types: deb-src\nURIs: %s\nSuites: forky\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" > "$list"
  apt-get update -qq
  # Only the orig tarball is needed; apt may fail on the other files, so its
  # exit status is not trusted: the sha256 check below is what counts.
  (cd "$work" && apt-get source --download-only -qq criu >/dev/null 2>&1) || true
  tarball=$(compgen -G "$work/criu_${CRIU_VERSION}.orig.tar.*" | head -n1) || true
  [ -n "$tarball" ] || { log "criu ${CRIU_VERSION} orig tarball not found"; exit 1; }
  echo "$CRIU_SHA256  $tarball" | sha256sum -c --quiet - || { log "criu tarball sha256 mismatch"; exit 1; }
  tar -C "$work" -xf "$tarball"
  src=$(find "$work" -maxdepth 1 -type d -name 'criu-*' | head -n1)
  make -C "$src" -j"$(nproc)" criu >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
  install -D -m 0755 "$src/criu/criu" "$CRIU_BIN"
  criu_ok "$CRIU_BIN" || { log "built CRIU fails 'criu check'"; "$CRIU_BIN" check || true; exit 1; }
  log "CRIU $("$CRIU_BIN" --version | sed -n 's/^Version: //p') installed at $CRIU_BIN"
fi
