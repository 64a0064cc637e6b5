#!/usr/bin/env bash
# MOUNT/<ns>/import of another engine's checkpoint archive in one step
# (fs/ctl-import.c, store/core archive-layout.c): the mount's cri.tar of a
# memhog checkpoint (what kubelet gets from containerd's CRI plugin) written
# to a file, the original image and container removed, `echo FILE >
# import`: the image is made under the name derived from the archive
# (containerd.io/checkpoint/<name>:<checkpoint time>), the restore file
# brings the memhog back and its counter goes on; the same archive gzip'd
# under a given name; a CRI-O-style archive; Podman exports when podman is
# installed (plain and gzip imported, the gzip one restored; zstd refused); refused
# archives (a .. member, zstd, a truncated one): the errno, nothing created,
# no private directory left in the work dir.
. "$(dirname "$0")/lib.sh"
require_ckptfs

mnt=$TENV_DIR/mnt
ns=$CKPTFS_TEST_NS
W=$TENV_DIR/imparc
mkdir -p "$W"
export CKPTFS_WORK_DIR=$TENV_DIR/work
mkdir -p "$CKPTFS_WORK_DIR"
ckptfs_mount "$mnt" --namespace "$ns" || bail_out "mount failed"
imp=$mnt/$ns/import
no_private_dirs() { ! compgen -G "$CKPTFS_WORK_DIR/ckptfs-import-*" >/dev/null; }
images() { tenv_ctr images ls -q 2>/dev/null | sort; }
# containerd's default checkpoint name of config.dump's container at its checkpointedTime, local time
# (or, without one, the time of its checkpoint/inventory.img)
derived_name() {
  python3 - "$1" <<'PY'
import datetime, json, re, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    c = json.load(t.extractfile("config.dump"))
    inv = t.getmember("checkpoint/inventory.img").mtime
s = c.get("checkpointedTime") or ""
if s and not s.startswith("0001-"):
    when = datetime.datetime.fromisoformat(re.sub(r"\.\d+", "", s).replace("Z", "+00:00")).astimezone()
else:
    when = datetime.datetime.fromtimestamp(inv)
print("containerd.io/checkpoint/%s:%s" % (c.get("name") or c["id"], when.strftime("%m-%d-%Y-%H:%M:%S")))
PY
}
restore_and_count() { # ID NAME BEFORE LABEL
  local R=$mnt/$ns/checkpoints/$2/restore
  ok "wait_for 10 test -f '$R'" "checkpoints/$2/restore exists ($4)"
  LIB_CMD_TIMEOUT=180 run_ok "echo > restore ($4)" sh -c "echo > '$R'"
  is "$(field result "$(cat "$R")")" ok "cat restore: result ok ($4)" || diag "$(cat "$R")"
  is "$(field container "$(cat "$R")")" "$1" "cat restore: the container of the archive ($4)"
  is "$(tenv_task_status "$1")" RUNNING "restored task RUNNING ($4)"
  local c
  c=$(count_of "$1")
  ok "[ '${c:-0}' -ge '$3' ]" "restored counter continues ($3 -> $c, $4)"
  wait_for 10 count_at_least "$1" $((${c:-0} + 1))
  ok $? "restored counter keeps counting ($4)"
  is "$(tenv_cat "$1" /rw-marker)" "rw-of-$1" "rw-layer file is back ($4)"
}

# ------------------------------------------------------------ a memhog checkpoint, its cri.tar, all else removed
id=$(tenv_uid imx)
run_ok "memhog 16 MiB started" start_memhog "$id" 16
wait_for 30 count_at_least "$id" 5
name=containerd.io/checkpoint/$id:orig
c_before=$(count_of "$id")
LIB_CMD_TIMEOUT=180 run_ok "checkpoint through the mount" \
  sh -c "echo 'name=$name' > '$mnt/$ns/containers/$id/checkpoint'"
ck=$mnt/$ns/checkpoints/$name
ok "wait_for 10 test -e '$ck/cri.tar'" "the checkpoint has cri.tar"
run_ok "cri.tar written to a file" cp "$ck/cri.tar" "$W/cri.tar"
want=$(derived_name "$W/cri.tar")
diag "derived name: $want"
run_ok "the original checkpoint image removed" tenv_ctr images rm "$name"
remove_container "$id"
ok "! tenv_ctr containers ls -q | grep -qx '$id'" "the original container is gone"

# ------------------------------------------------------------ import of the archive, restore
out=$(LIB_CMD_TIMEOUT=180 "$FSOP" write "$imp" "$W/cri.tar" 2>&1)
ok $? "echo cri.tar > import $out"
rep=$(cat "$imp")
diag "$rep"
is "$(field result "$rep")" ok "cat import: result ok"
is "$(field archive "$rep")" containerd-cri "cat import: the kind of archive"
like "$(field source "$rep")" "cri.tar \(containerd-cri\)" "cat import: the source and its kind"
is "$(field image "$rep")" "$want" "the name derived from config.dump: name and checkpoint time"
is "$(image_digest "$want")" "$(field digest "$rep")" "the image is there under that name and digest"
is "$(tenv_ctr images ls name=="$want" 2>/dev/null | awk 'NR > 1' | grep -c 'containerd.io/checkpoint=true')" 1 \
  "labelled as a checkpoint"
ok no_private_dirs "no private layout directory left in the work dir"
restore_and_count "$id" "$want" "$c_before" "from cri.tar"

# ------------------------------------------------------------ gzip'd, a given name
run_ok "gzip of cri.tar" sh -c "gzip -1 -c '$W/cri.tar' > '$W/cri.tar.gz'"
gname=imports/$id:gz
out=$(LIB_CMD_TIMEOUT=180 "$FSOP" write "$imp" "$W/cri.tar.gz name=$gname" 2>&1)
ok $? "echo 'cri.tar.gz name=$gname' > import $out"
rep=$(cat "$imp")
is "$(field image "$rep")" "$gname" "the given name"
is "$(image_digest "$gname")" "$(image_digest "$want")" "gzip archive: the same index digest"
fails_with EEXIST "$FSOP" write "$imp" "$W/cri.tar.gz name=$gname"
ok no_private_dirs "EEXIST: no private directory left"

# ------------------------------------------------------------ a CRI-O-style archive made from it
X=$W/crio
mkdir -p "$X"
run_ok "unpack cri.tar" tar -C "$X" -xf "$W/cri.tar"
rm -f "$X/status.dump"
echo '[]' >"$X/bind.mounts"
gzip -dc "$X/rootfs-diff.tar" >"$X/rootfs-diff.plain" && mv "$X/rootfs-diff.plain" "$X/rootfs-diff.tar"
jq -c '.root.path = "/var/lib/containers/storage/overlay/x/merged"' "$X/spec.dump" >"$X/spec.new" &&
  mv "$X/spec.new" "$X/spec.dump"
run_ok "tar of the CRI-O-style archive" tar -C "$X" -cf "$W/crio.tar" .
ciname=containerd.io/checkpoint/$id:crio
out=$(LIB_CMD_TIMEOUT=180 "$FSOP" write "$imp" "$W/crio.tar name=$ciname" 2>&1)
ok $? "echo 'crio.tar name=...' > import $out"
rep=$(cat "$imp")
is "$(field archive "$rep")" cri-o "cat import: cri-o"
like "$(field converted "$rep")" "rw_bytes [0-9]+ \(gzip'd here\)" "its plain rootfs-diff.tar gzip'd"
remove_container "$id"
restore_and_count "$id" "$ciname" "$c_before" "from the CRI-O-style archive"
ok no_private_dirs "no private directory left (CRI-O)"

# ------------------------------------------------------------ refused archives: nothing created
python3 - "$W" <<'PY'
import io, sys, tarfile
w = sys.argv[1]
def mk(path, members):
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
base = [("checkpoint/inventory.img", b"x"), ("spec.dump", b"{}"), ("config.dump", b"{}"), ("status.dump", b"{}")]
mk(w + "/dotdot.tar", base + [("checkpoint/../../etc/escape-imparc", b"x")])
mk(w + "/unknown.tar", base[:3])
PY
before=$(images)
fails_with EINVAL "$FSOP" write "$imp" "$W/dotdot.tar"
like "$(field error "$(cat "$imp")")" "refused|unsafe" "a .. member: refused with a message"
fails_with EINVAL "$FSOP" write "$imp" "$W/unknown.tar"
like "$(field error "$(cat "$imp")")" "unknown engine" "an archive of an unknown engine: EINVAL, said so"
head -c 3000 "$W/cri.tar" >"$W/trunc.tar"
fails_with EIO "$FSOP" write "$imp" "$W/trunc.tar"
printf '\x28\xb5\x2f\xfd rest' >"$W/z.tar.zst"
fails_with EINVAL "$FSOP" write "$imp" "$W/z.tar.zst"
like "$(field error "$(cat "$imp")")" "zstd" "zstd: EINVAL, said so"
is "$(images)" "$before" "nothing created by the refused archives"
ok '[ ! -e /etc/escape-imparc ] && [ ! -e "$W/../etc/escape-imparc" ]' "no file written outside"
ok no_private_dirs "no private directory left after the refusals"
remove_container "$id"

# ------------------------------------------------------------ a Podman export (as test-convert.sh makes one)
if command -v podman >/dev/null 2>&1 && [ -s "${CKPTFS_TEST_IMAGE_TAR:-}" ]; then
  PM=$W/podman
  P=(podman --root "$PM/root" --runroot "$PM/run" --tmpdir "$PM/tmp" --cgroup-manager=cgroupfs
     --events-backend=file --runtime runc)
  pm_cleanup() {
    "${P[@]}" rm -f -a >/dev/null 2>&1
    "${P[@]}" rmi -f -a >/dev/null 2>&1
    findmnt -rn -o TARGET | grep "^$PM/" | sort -r | xargs -r -n1 umount -l 2>/dev/null
  }
  trap '_st=$?; pm_cleanup; (exit $_st); _lib_on_exit' EXIT
  pid=$(tenv_uid ipd)
  run_ok "podman load of the test image" "${P[@]}" load -i "$CKPTFS_TEST_IMAGE_TAR"
  run_ok "podman run memhog" "${P[@]}" run -d --name "$pid" --network none \
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$CKPTFS_TEST_IMAGE" \
    sh -c "echo rw-of-$pid >/rw-marker; exec memhog 8 /tmp/count"
  pcount() { "${P[@]}" exec "$pid" cat /tmp/count 2>/dev/null | tr -d '\n'; }
  pcount_at_least() { local c; c=$(pcount); [[ $c =~ ^[0-9]+$ ]] && [ "$c" -ge "$1" ]; }
  ok "wait_for 30 pcount_at_least 5" "the podman memhog counts"
  LIB_CMD_TIMEOUT=180 run_ok "podman container checkpoint --leave-running --export (default: zstd)" \
    "${P[@]}" container checkpoint -R --export "$W/podman.tar.zst" "$pid"
  fails_with EINVAL "$FSOP" write "$imp" "$W/podman.tar.zst"
  like "$(field error "$(cat "$imp")")" "zstd" "Podman's default zstd export: EINVAL, said so"
  LIB_CMD_TIMEOUT=180 run_ok "podman container checkpoint --leave-running --export -c none" \
    "${P[@]}" container checkpoint -R --export "$W/podman.tar" -c none "$pid"
  out=$(LIB_CMD_TIMEOUT=180 "$FSOP" write "$imp" "$W/podman.tar name=imports/$pid:plain" 2>&1)
  ok $? "echo 'podman.tar name=...' > import (a plain tar) $out"
  is "$(field archive "$(cat "$imp")")" podman "cat import: podman (plain tar)"
  is "$(field image "$(cat "$imp")")" "imports/$pid:plain" "... under the given name"
  ok "wait_for 10 pcount_at_least 1" "the podman memhog runs on after --leave-running"
  p_before=$(pcount)
  LIB_CMD_TIMEOUT=180 run_ok "podman container checkpoint --export -c gzip" \
    "${P[@]}" container checkpoint --export "$W/podman.tar.gz" -c gzip "$pid"
  pwant=$(derived_name "$W/podman.tar.gz")
  out=$(LIB_CMD_TIMEOUT=180 "$FSOP" write "$imp" "$W/podman.tar.gz" 2>&1)
  ok $? "echo podman.tar.gz > import $out"
  rep=$(cat "$imp")
  diag "$rep"
  is "$(field archive "$rep")" podman "cat import: podman"
  is "$(field image "$rep")" "$pwant" "the name derived from Podman's config.dump"
  ok no_private_dirs "no private directory left (Podman)"
  LIB_CMD_TIMEOUT=120 restore_and_count "$pid" "$pwant" "$p_before" "from Podman"
  remove_container "$pid"
  pm_cleanup
else
  skip "podman or the test image tar missing"
fi

ckptfs_umount "$mnt"
done_testing
