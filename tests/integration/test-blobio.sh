#!/usr/bin/env bash
# Whole blobs read through the mount: by FUSE passthrough where the
# kernel and libfuse have it (no READ reaches ckptfs), by READ with
# --no-passthrough; the sha256 check in both: a content store file that does
# not match its digest is EIO, never served. Tar members and mmap alongside.
. "$(dirname "$0")/lib.sh"
require_ckptfs

W=$TENV_DIR/work
MNT=$TENV_DIR/mnt
NS=$CKPTFS_TEST_NS
mkdir -p "$W"

# READ requests for FILE's inode in the debug log of the current mount
reads_of() { grep -c "opcode: READ ([0-9]*), nodeid: $(stat -c %i "$1")," "$CKPTFS_LOG"; }
# flip_byte FILE OFFSET: xor one byte in place (same size)
flip_byte() {
  python3 -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))' "$1" "$2"
}

# Passthrough needs libfuse >= 3.16 (scripts/install-deps.sh builds 3.17)
# and a kernel >= 6.9 with CONFIG_FUSE_PASSTHROUGH (these machines: 6.18).
pt_expected=0
if "$CKPTFS" --version | grep -q 'passthrough built in' &&
  [ "$(printf '6.9\n%s\n' "$(uname -r | cut -d- -f1)" | sort -V | head -n1)" = 6.9 ]; then
  pt_expected=1
fi
diag "ckptfs: $("$CKPTFS" --version); kernel $(uname -r); passthrough expected: $pt_expected"

# ---------------------------------------------------------------- a checkpoint with a 48 MiB CRIU dump
id=$(tenv_uid blobio)
run_ok "a container holding 48 MiB" tenv_run "$id" memhog 48 /tmp/count
wait_for 30 count_at_least "$id" 2
ref=blobio/$id:one
run_ok "ctr c checkpoint --task --rw --image" tenv_ctr containers checkpoint --task --rw --image "$id" "$ref"
digest=$(image_digest "$ref")
tenv_ctr content get "$digest" >"$W/index.json"
criu=$(jq -r '.manifests[] | select(.mediaType | endswith("criu.tar")) | .digest' "$W/index.json")
rw=$(jq -r '.manifests[] | select(.mediaType | endswith("tar+gzip")) | .digest' "$W/index.json")
ok "[ -f '$BLOBS/${criu#sha256:}' ] && [ -f '$BLOBS/${rw#sha256:}' ]" "the CRIU and rw blobs are in the content store"
CB=$BLOBS/${criu#sha256:}
RB=$BLOBS/${rw#sha256:}

ckptfs_mount "$MNT" --cache "$TENV_DIR/cache.db" -d || bail_out "cannot mount"
C=$MNT/$NS/checkpoints/$ref
ok "wait_for 5 test -f '$C/manifests/criu.tar'" "the checkpoint is listed"
F=$C/manifests/criu.tar
L=$C/layout/blobs/sha256/${criu#sha256:}

# ---------------------------------------------------------------- passthrough
run_ok "criu.tar equals the content store's file (first read)" cmp "$CB" "$F"
run_ok "... and again (second read)" cmp "$CB" "$F"
if [ $pt_expected = 1 ]; then
  is "$(reads_of "$F")" 0 "no READ of criu.tar reached ckptfs: the kernel read the blob file (passthrough)"
else
  skip "passthrough not available here"
fi
# Two inodes (manifests/ and layout/) on one backing file, and two opens of
# one inode at once, read interleaved.
run_ok "two opens of criu.tar and one of its layout/ file at once, interleaved" python3 -c '
import hashlib, sys
fs = [open(p, "rb") for p in (sys.argv[1], sys.argv[1], sys.argv[2])]
hs = [hashlib.sha256() for _ in fs]
while True:
    chunks = [f.read(1 << 20) for f in fs]
    for h, c in zip(hs, chunks): h.update(c)
    if not any(chunks): break
sys.exit(0 if all(h.hexdigest() == sys.argv[3] for h in hs) else 1)' "$F" "$L" "${criu#sha256:}"
if [ $pt_expected = 1 ]; then
  is "$(reads_of "$F")$(reads_of "$L")" 00 "... none of them by READ"
else
  skip "passthrough not available here"
fi
run_ok "mmap of criu.tar hashes to its digest" python3 -c '
import hashlib, mmap, sys
with open(sys.argv[1], "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:
    sys.exit(0 if hashlib.sha256(m).hexdigest() == sys.argv[2] else 1)' "$F" "${criu#sha256:}"
tar -C "$W" -xf "$CB" pages-1.img
run_ok "task/pages-1.img (READ at an offset of the blob) equals the tar member while criu.tar is open" \
  python3 -c '
import sys
held = open(sys.argv[1], "rb"); held.read(4096)
a = open(sys.argv[2], "rb").read(); b = open(sys.argv[3], "rb").read()
sys.exit(0 if a == b and len(a) > 0 else 1)' "$F" "$C/task/pages-1.img" "$W/pages-1.img"

# ---------------------------------------------------------------- a blob file that does not match its digest
size=$(stat -c %s "$RB")
cp -p "$RB" "$W/rw.orig"
flip_byte "$RB" $((size / 2))
fails_with EIO cat "$C/manifests/rw.tar.gz"
fails_with -m "... also under layout/blobs/sha256/" EIO cat "$C/layout/blobs/sha256/${rw#sha256:}"
cp -p "$W/rw.orig" "$RB"
run_ok "once the file is good again, it reads" cmp "$RB" "$C/manifests/rw.tar.gz"
# A file checked good before and changed since is checked again.
cp -p "$CB" "$W/criu.orig"
flip_byte "$CB" 100
fails_with -m "criu.tar changed after it was checked: EIO at the next open" EIO cat "$F"
cp -p "$W/criu.orig" "$CB"
run_ok "... and good again" cmp "$CB" "$F"
ckptfs_umount "$MNT"

# ---------------------------------------------------------------- --no-passthrough: READ
ckptfs_mount "$MNT" --cache "$TENV_DIR/cache.db" --no-passthrough -d || bail_out "cannot mount"
ok "wait_for 5 test -f '$F'" "remounted with --no-passthrough"
run_ok "criu.tar equals the content store's file" cmp "$CB" "$F"
ok "[ $(reads_of "$F") -gt 0 ]" "... read by READ requests"
run_ok "... and again from the page cache" cmp "$CB" "$F"
flip_byte "$RB" $((size / 2))
fails_with -m "a corrupt rw.tar.gz file is EIO also without passthrough" EIO cat "$C/manifests/rw.tar.gz"
cp -p "$W/rw.orig" "$RB"
ckptfs_umount "$MNT"

# ---------------------------------------------------------------- through containerd's Content API: checked as read
# (an empty --content-root: no local file, so Content.Read serves the bytes)
mkdir -p "$W/no-content"
ckptfs_mount "$MNT" --cache "$TENV_DIR/cache.db" --content-root "$W/no-content" -d || bail_out "cannot mount"
ok "wait_for 5 test -f '$F'" "remounted without a readable content store"
run_ok "criu.tar equals the content store's file, read through Content.Read" cmp "$CB" "$F"
ok "[ $(reads_of "$F") -gt 0 ]" "... by READ requests"
flip_byte "$RB" $((size / 2))
fails_with -m "a whole read of a corrupt rw.tar.gz fails with EIO (at its end)" EIO cat "$C/manifests/rw.tar.gz"
cp -p "$W/rw.orig" "$RB"
run_ok "... and, good again, reads whole: no page of the failed read was kept" cmp "$RB" "$C/manifests/rw.tar.gz"
ckptfs_umount "$MNT"

tenv_ctr tasks kill -s SIGKILL "$id" >/dev/null 2>&1
done_testing
