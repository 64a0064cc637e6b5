#!/usr/bin/env bash
# Import through the mount: MOUNT/<ns>/import takes an OCI layout (a
# checkpoint's layout/ copied with rsync -a, a tar of it, a restic restore
# of it), checks every blob before anything is created in containerd, and
# makes the checkpoint image again: same index digest, the checkpoint
# label, and `ctr c restore --live --rw` brings the counter back. Damaged
# copies (a flipped byte, a missing blob, a truncated tar) are EIO naming
# the blob and create nothing; unsafe tars are refused.
. "$(dirname "$0")/lib.sh"
require_ckptfs

mnt=$TENV_DIR/mnt
ns=$CKPTFS_TEST_NS
imp=$mnt/$ns/import
scratch=$TENV_DIR/scratch
mkdir -p "$scratch"

id=$(tenv_uid imp)
run_ok "memhog 16 MiB started" start_memhog "$id" 16
wait_for 30 count_at_least "$id" 5   # a fresh start would count from 0: a restore goes on from here
ckptfs_mount "$mnt" --namespace "$ns" || bail_out "mount failed"
ok '[ -f "$imp" ]' "MOUNT/<ns>/import exists"
is "$(cat "$imp")" "" "cat import: empty before any import"

c_ckpt=$(count_of "$id")   # before: the counter goes on after the dump
echo > "$mnt/$ns/containers/$id/checkpoint"
ok $? "checkpoint through the mount"
name=$(field name "$(cat "$mnt/$ns/containers/$id/checkpoint")")
idx=$(image_digest "$name")
like "$idx" '^sha256:' "the checkpoint image $name ($idx)"
layout=$mnt/$ns/by-digest/${idx#sha256:}/layout
criu=$(criu_blob "$idx")

# ------------------------------------------------------------ backups of layout/
run_ok "rsync -a of layout/" rsync -a "$layout/" "$scratch/lay/"
run_ok "tar -C layout -cf" tar -C "$layout" -cf "$scratch/lay.tar" .
run_ok "tar -C layout -czf" tar -C "$layout" -czf "$scratch/lay.tar.gz" .
n_blobs=$(ls "$scratch/lay/blobs/sha256" | wc -l)
ok "[ $n_blobs -ge 6 ]" "the copy holds $n_blobs blobs"

# The checkpoint's own blobs: the index and its children but the base image's manifest.
own_blobs() {
  python3 - "$scratch/lay/blobs/sha256/${idx#sha256:}" "$idx" <<'PY'
import json, sys
print(sys.argv[2])
for d in json.load(open(sys.argv[1]))["manifests"]:
    if not d["mediaType"].endswith("manifest.v1+json"):
        print(d["digest"])
PY
}
mapfile -t own < <(own_blobs)
forget() { # the image, its own blobs, the container: as if containerd were fresh for them
  remove_container "$id"
  tenv_ctr images rm --sync "$@" >/dev/null 2>&1
  for d in "${own[@]}"; do tenv_ctr content rm "$d" >/dev/null 2>&1; done
  wait_for 10 test ! -d "$mnt/$ns/by-digest/${idx#sha256:}"
}
present_own() { local n=0 d; for d in "${own[@]}"; do [ -e "$BLOBS/${d#sha256:}" ] && n=$((n + 1)); done; echo $n; }
leases() { tenv_ctr leases ls -q | grep -c ckptfs-import; }
forget "$name"
is "$(image_digest "$name")" "" "the image is removed"
is "$(present_own)" 0 "its ${#own[@]} own blobs are gone from the content store"

# ------------------------------------------------------------ damaged backups: EIO, nothing created
cp -a "$scratch/lay" "$scratch/flip"
python3 - "$scratch/flip/blobs/sha256/${criu#sha256:}" <<'PY'
import os, sys
f = open(sys.argv[1], "r+b"); n = os.path.getsize(sys.argv[1]); f.seek(n // 2)
b = f.read(1); f.seek(n // 2); f.write(bytes([b[0] ^ 0x01]))
PY
fails_with EIO "$FSOP" write "$imp" "$scratch/flip"
rep=$(cat "$imp")
is "$(field result "$rep")" error "flipped byte: cat import says error"
like "$(field error "$rep")" "blob $criu is damaged" "... naming the CRIU blob"
is "$(image_digest "$name")" "" "... no image created"
is "$(present_own)" 0 "... no blob left in the content store"
is "$(leases)" 0 "... no lease left"

cp -a "$scratch/lay" "$scratch/miss"
rm "$scratch/miss/blobs/sha256/${criu#sha256:}"
fails_with EIO "$FSOP" write "$imp" "$scratch/miss"
like "$(field error "$(cat "$imp")")" "blob $criu .*missing" "missing blob: EIO naming it"
is "$(present_own)" 0 "... no blob left in the content store"

head -c $(( $(stat -c %s "$scratch/lay.tar") / 2 )) "$scratch/lay.tar" > "$scratch/trunc.tar"
fails_with EIO "$FSOP" write "$imp" "$scratch/trunc.tar"
like "$(field error "$(cat "$imp")")" "truncated" "truncated tar: EIO, said so"

# flipped byte inside the tar
cp "$scratch/lay.tar" "$scratch/flip.tar"
off=$(python3 - "$scratch/lay.tar" "${criu#sha256:}" <<'PY'
import sys, tarfile
t = tarfile.open(sys.argv[1])
for m in t.getmembers():
    if m.name.endswith(sys.argv[2]):
        print(m.offset_data + m.size // 3)
PY
)
printf '\x00' | dd of="$scratch/flip.tar" bs=1 seek="$off" conv=notrunc status=none
fails_with EIO "$FSOP" write "$imp" "$scratch/flip.tar"
like "$(field error "$(cat "$imp")")" "blob $criu is damaged" "flipped byte in the tar: EIO naming the blob"
is "$(image_digest "$name")" "" "... no image created"

# ------------------------------------------------------------ unsafe tars, bad lines
python3 - "$scratch" <<'PY'
import io, sys, tarfile
d = sys.argv[1]
def mk(name, members):
    with tarfile.open(f"{d}/{name}.tar", "w", format=tarfile.USTAR_FORMAT) as t:
        for m, data in members:
            t.addfile(m, io.BytesIO(data) if data is not None else None)
def reg(n, data=b"x"):
    m = tarfile.TarInfo(n); m.size = len(data); return (m, data)
def link(n, target, kind=tarfile.SYMTYPE):
    m = tarfile.TarInfo(n); m.type = kind; m.linkname = target; return (m, None)
def dev(n):
    m = tarfile.TarInfo(n); m.type = tarfile.CHRTYPE; m.devmajor = 1; m.devminor = 3; return (m, None)
mk("dotdot", [reg("index.json", b"{}"), reg("../../escape-dotdot")])
mk("absolute", [reg("index.json", b"{}"), reg("/tmp/escape-absolute")])
mk("symlink", [link("blobs", "../../../etc"), reg("index.json", b"{}")])
mk("device", [dev("blobs/null"), reg("index.json", b"{}")])
PY
for t in dotdot absolute symlink device; do
  fails_with EINVAL "$FSOP" write "$imp" "$scratch/$t.tar"
  like "$(field error "$(cat "$imp")")" "the tar is refused" "$t member: refused with a message"
done
ok '[ ! -e "$TENV_DIR/escape-dotdot" ] && [ ! -e /tmp/escape-absolute ] && [ ! -e "$scratch/../escape-dotdot" ]' \
  "no file created outside"
fails_with ENOENT "$FSOP" write "$imp" "$scratch/nothing-here"
fails_with EINVAL "$FSOP" write "$imp" "relative/path"
fails_with EINVAL "$FSOP" write "$imp" "$scratch/lay bogus=1"
is "$(image_digest "$name")" "" "still no image"

# ------------------------------------------------------------ the rsync copy: imported and restored
echo "$scratch/lay" > "$imp"
ok $? "import of the rsync -a copy"
rep=$(cat "$imp")
is "$(field result "$rep")" ok "cat import: result ok"
is "$(field image "$rep")" "$name" "cat import: the name from the layout's annotations"
is "$(field digest "$rep")" "$idx" "cat import: the index digest"
is "$(field blobs "$rep")" "$n_blobs" "cat import: every blob of the copy sent"
like "$rep" $'total_ms: [0-9]+' "cat import: the time"
is "$(image_digest "$name")" "$idx" "the image exists again with the same index digest"
like "$(tenv_ctr images ls | awk -v r="$name" '$1 == r')" 'containerd.io/checkpoint=true' "... labelled as a checkpoint"
is "$(leases)" 0 "the import's lease is gone"
ok "wait_for 5 test -d '$mnt/$ns/by-digest/${idx#sha256:}'" "the checkpoint shows in the mount again"
# a synchronous garbage collection (the deletion of a lease of our own)
gc_lease=$(tenv_ctr leases create | awk '{print $1; exit}')
run_ok "a garbage collection" tenv_ctr leases delete --sync "$gc_lease"
is "$(present_own)" "${#own[@]}" "its blobs stay after the lease is gone (gc labels)"
run_ok "ctr c restore --live --rw of the imported image" tenv_ctr containers restore --live --rw "$id" "$name"
is "$(tenv_task_status "$id")" RUNNING "restored task RUNNING"
c_rest=$(count_of "$id")
ok "[ '${c_rest:-0}' -ge '$c_ckpt' ]" "restored counter continues ($c_ckpt -> $c_rest)"
wait_for 10 count_at_least "$id" $((c_rest + 1))
ok $? "restored counter keeps counting"
is "$(tenv_cat "$id" /rw-marker)" "rw-of-$id" "rw-layer file is back"

fails_with EEXIST "$FSOP" write "$imp" "$scratch/lay.tar"
like "$(field error "$(cat "$imp")")" "exists already" "EEXIST when the name is taken"
# a backup without the CRIU blob, while the content store has it: taken from there
echo "$scratch/miss name=containerd.io/checkpoint/$id:from-miss" > "$imp"
ok $? "a layout missing a blob the content store has: imported"
is "$(field blobs_from_store "$(cat "$imp")")" 1 "cat import: 1 blob from the content store"
is "$(image_digest "containerd.io/checkpoint/$id:from-miss")" "$idx" "... the same index digest"
run_ok "its image removed" tenv_ctr images rm --sync "containerd.io/checkpoint/$id:from-miss"

# ------------------------------------------------------------ the tar: imported and restored
forget "$name"
is "$(present_own)" 0 "image and blobs removed again"
other=containerd.io/checkpoint/$id:from-tar
echo "$scratch/lay.tar name=$other" > "$imp"
ok $? "import of the tar, name=$other"
is "$(field digest "$(cat "$imp")")" "$idx" "cat import: the same index digest"
is "$(image_digest "$other")" "$idx" "image $other -> $idx"
echo "$scratch/lay.tar.gz name=containerd.io/checkpoint/$id:from-targz" > "$imp"
ok $? "import of the gzip'd tar"
is "$(image_digest "containerd.io/checkpoint/$id:from-targz")" "$idx" "... the same index digest"
run_ok "its image removed" tenv_ctr images rm --sync "containerd.io/checkpoint/$id:from-targz"
run_ok "ctr c restore --live --rw of the tar's image" tenv_ctr containers restore --live --rw "$id" "$other"
c_rest=$(count_of "$id")
ok "[ '${c_rest:-0}' -ge '$c_ckpt' ]" "restored counter continues ($c_ckpt -> $c_rest)"

# ------------------------------------------------------------ restic backup/restore of layout/
if command -v restic >/dev/null; then
  export RESTIC_PASSWORD=ckptfs-test RESTIC_REPOSITORY=$scratch/restic
  run_ok "restic init" restic init -q
  run_ok "restic backup of layout/" bash -c "cd '$layout' 2>/dev/null || cd '$mnt/$ns/by-digest/${idx#sha256:}/layout'; restic backup -q ."
  run_ok "restic restore" restic restore -q latest --target "$scratch/restored"
  src=$scratch/restored
  [ -f "$src/index.json" ] || src=$(dirname "$(find "$scratch/restored" -name index.json | head -n1)")
  forget "$other"
  echo "$src name=containerd.io/checkpoint/$id:from-restic" > "$imp"
  ok $? "import of the restic restore"
  is "$(image_digest "containerd.io/checkpoint/$id:from-restic")" "$idx" "... the same index digest"
  run_ok "ctr c restore --live --rw of it" tenv_ctr containers restore --live --rw "$id" "containerd.io/checkpoint/$id:from-restic"
  c_rest=$(count_of "$id")
  ok "[ '${c_rest:-0}' -ge '$c_ckpt' ]" "restored counter continues ($c_ckpt -> $c_rest)"
else
  for _ in 1 2 3 4 5 6; do skip "restic is not installed (scripts/install-deps.sh)"; done
fi

ok "kill -0 $CKPTFS_PID" "the daemon is alive"
ckptfs_umount "$mnt"

# ------------------------------------------------------------ a namespace that does not exist yet
# (what a fresh containerd is to the import: no image, no blob known there)
fresh=$ns-fresh
fmnt=$TENV_DIR/mnt-fresh
fctr() { _tenv_ctr_at "$CKPTFS_TEST_ADDR" "$fresh" "$@"; }
is "$(_tenv_ctr_at "$CKPTFS_TEST_ADDR" default namespaces ls -q | grep -cxF "$fresh")" 0 "namespace $fresh does not exist"
# a failure once blobs are written (the test fault): they go with the lease
CKPTFS_TEST_IMPORT_FAIL=3 ckptfs_mount "$fmnt" --namespace "$fresh" || bail_out "mount of $fresh failed"
is "$(ls "$fmnt")" "$fresh" "a --namespace mount shows its namespace before it exists"
fails_with EIO "$FSOP" write "$fmnt/$fresh/import" "$scratch/lay.tar"
like "$(field error "$(cat "$fmnt/$fresh/import")")" "test fault after 3 blobs" "a failure after 3 blobs written"
is "$(fctr images ls -q | grep -c .)" 0 "... no image in $fresh"
is "$(fctr content ls -q | grep -c .)" 0 "... no blob in $fresh (they went with the lease)"
is "$(fctr leases ls -q | grep -c .)" 0 "... no lease"
ckptfs_umount "$fmnt"
ckptfs_mount "$fmnt" --namespace "$fresh" || bail_out "mount of $fresh failed"
echo "$scratch/lay.tar" > "$fmnt/$fresh/import"
ok $? "import of the tar into it"
rep=$(cat "$fmnt/$fresh/import")
is "$(field blobs_from_store "$rep")" 0 "cat import: every blob from the backup"
is "$(fctr images ls | awk -v r="$name" '$1 == r { print $3 }')" "$idx" "the image in $fresh, same index digest"
ok "wait_for 5 test -d '$fmnt/$fresh/by-digest/${idx#sha256:}'" "the checkpoint shows in the mount"
run_ok "the base image imported into $fresh (restore looks it up by name)" tenv_import_image "$fresh"
run_ok "ctr -n $fresh c restore --live --rw" fctr containers restore --live --rw "$id" "$name"
fpid=$(fctr tasks ls | awk -v i="$id" '$1 == i { print $2 }')
fcount() { tr -d '\n' < "/proc/$fpid/root/tmp/count" 2>/dev/null; }
c_rest=$(fcount)
ok "[ '${c_rest:-0}' -ge '$c_ckpt' ]" "restored counter continues ($c_ckpt -> $c_rest)"
fcount_above() { local c; c=$(fcount); [[ $c =~ ^[0-9]+$ ]] && [ "$c" -gt "$1" ]; }
wait_for 10 fcount_above "$c_rest"
ok $? "... and keeps counting"
fctr tasks kill -s SIGKILL "$id" >/dev/null 2>&1
ckptfs_umount "$fmnt"
done_testing
