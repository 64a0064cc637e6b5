#!/usr/bin/env bash
# Damaged CRIU images inside a valid, content-addressed checkpoint (copies
# made by ckpt-variant.py with new digests, imported with ctr): the views
# that decode the damaged image fail with EIO, never a crash; the rest of
# the checkpoint directory stays readable.
. "$(dirname "$0")/lib.sh"
require_ckptfs
[ -n "${CRIU_DECODE:-}" ] || [ -d /opt/ckptfs/criu-4.2.1/images ] ||
  skip_all "ckptfs built without the CRIU image decoder"

mnt=$TENV_DIR/mnt
ns=$CKPTFS_TEST_NS
id=$(tenv_uid bad)
tenv_run "$id" sh -c 'while :; do sleep 1; done'
ckptfs_mount "$mnt" --namespace "$ns" || bail_out "mount failed"
echo "name=ck/$id:good" > "$mnt/$ns/containers/$id/checkpoint"
ok $? "a checkpoint through the mount"
good=$mnt/$ns/checkpoints/ck/$id:good
ok "[ -d '$good/proc' ]" "it has proc/"

# variant NAME EDIT...: a damaged copy, imported and listed in the mount
variant() {
  local name=$1
  shift
  /usr/bin/python3 "$LIB_DIR/ckpt-variant.py" "$good/layout" "ck/$id:$name" "$TENV_DIR/$name.tar" "$@" >/dev/null &&
    tenv_ctr images import --no-unpack "$TENV_DIR/$name.tar" >/dev/null &&
    wait_for 10 test -d "$mnt/$ns/checkpoints/ck/$id:$name/proc"
}
# still_readable DIR: what does not decode the damaged images
still_readable() {
  local d=$1
  cmp -s "$d/index.json" <(tenv_ctr content get "$(image_digest "${d#"$mnt/$ns/checkpoints/"}")") &&
    cat "$d/layout/index.json" "$d/config.json" >/dev/null && ls "$d/task" >/dev/null &&
    cat "$d/task/inventory.img" "$d/decoded/inventory.json" >/dev/null
}

# pstree.img cut inside its first record
run_ok "a copy with pstree.img cut short" variant cut-pstree pstree.img=truncate:14
d=$mnt/$ns/checkpoints/ck/$id:cut-pstree
fails_with EIO cat "$d/proc/ps"
fails_with EIO cat "$d/decoded/pstree.json"
# proc/ still lists its files (stats, sockets... read without pstree); no pid dirs
like "$(ls "$d/proc" | tr '\n' ' ')" '^[a-z. ]*ps ps\.json [a-z. ]*stats stats\.json $' "proc/ still lists, without pid dirs"
like "$(cat "$d/summary")" 'damaged: pstree\.img' "summary names pstree.img"
is "$(stat -c %s "$d/task/pstree.img")" 14 "task/pstree.img is there, cut"
ok "still_readable '$d'" "index.json, layout/, config.json, task/, decoded/inventory.json still read"

# core-1.img cut inside its record: ps needs every core
run_ok "a copy with core-1.img cut short" variant cut-core core-1.img=truncate:40
d=$mnt/$ns/checkpoints/ck/$id:cut-core
fails_with EIO cat "$d/proc/ps"
fails_with EIO cat "$d/decoded/core-1.json"
ok "still_readable '$d'" "the rest of the checkpoint still reads"
cmp -s "$d/decoded/pstree.json" "$good/decoded/pstree.json"
ok $? "decoded/pstree.json as in the good checkpoint"

# files.img damaged: the fd views fail, the process views do not
run_ok "a copy with files.img cut short" variant cut-files files.img=truncate:30
d=$mnt/$ns/checkpoints/ck/$id:cut-files
cmp -s "$d/proc/ps" "$good/proc/ps"
ok $? "proc/ps as in the good checkpoint"
cmp -s "$d/proc/1/status" "$good/proc/1/status"
ok $? "proc/1/status as in the good checkpoint"
fails_with EIO cat "$d/proc/1/fds"
fails_with EIO cat "$d/proc/1/fds.json"

# mm-1.img damaged: the core fails
run_ok "a copy with mm-1.img cut short" variant cut-mm mm-1.img=truncate:50
d=$mnt/$ns/checkpoints/ck/$id:cut-mm
fails_with EIO cat "$d/proc/1/core"
cmp -s "$d/proc/ps" "$good/proc/ps"
ok $? "proc/ps as in the good checkpoint"

# a record's bytes garbled (not cut): a decoder error, or a value, never a crash
run_ok "a copy with garbled bytes in core-1.img" variant flip-core core-1.img=flip:30 core-1.img=flip:31
d=$mnt/$ns/checkpoints/ck/$id:flip-core
cat "$d/proc/ps" >/dev/null 2>&1
cat "$d/decoded/core-1.json" >/dev/null 2>&1
ok "kill -0 $CKPTFS_PID" "the daemon is alive after reading it"

ckptfs_umount "$mnt"
done_testing
