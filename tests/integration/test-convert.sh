#!/usr/bin/env bash
# Checkpoint archives of other engines back into containerd checkpoint
# images (store/core archive.h, through tests/store/core/ckpt-convert): a
# memhog checkpoint taken through the mount, its cri.tar (the archive
# kubelet gets from containerd's CRI plugin) converted into an OCI layout,
# `ctr images import --no-unpack`, the original container removed, `ctr c
# restore --live --rw` of the converted image: the counter goes on. The
# same for a CRI-O-style archive made from it (no status.dump, bind.mounts,
# a plain-tar rootfs-diff.tar, root.path of another engine's storage), for
# a gzip-compressed archive, and for a real `podman container checkpoint
# --export -c gzip` of a memhog (when podman is installed); unsafe archives
# are refused.
. "$(dirname "$0")/lib.sh"
require_ckptfs
CONVERT=${CKPT_CONVERT:-}
[ -n "$CONVERT" ] && [ -x "$CONVERT" ] || skip_all "ckpt-convert not built (CKPT_CONVERT='$CONVERT')"

mnt=$TENV_DIR/mnt
ns=$CKPTFS_TEST_NS
W=$TENV_DIR/conv
mkdir -p "$W"
export CKPTFS_WORK_DIR=$TENV_DIR/work
mkdir -p "$CKPTFS_WORK_DIR"
ckptfs_mount "$mnt" --namespace "$ns" || bail_out "mount failed"

# digest of the first descriptor of index DIGEST whose media type ends in SUFFIX
desc_of() {
  python3 -c '
import json, sys
for d in json.load(open(sys.argv[1]))["manifests"]:
    if d["mediaType"].endswith(sys.argv[2]):
        print(d["digest"]); break' "$2" "$3"
}
# annotation KEY of an index file
ann_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["annotations"].get(sys.argv[2], ""))' "$1" "$2"; }
# name -> sha256 of each regular member of a tar, sorted
tar_sums() {
  python3 -c '
import hashlib, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in sorted(t.getmembers(), key=lambda m: m.name):
        if m.isfile():
            print(m.name.lstrip("./"), hashlib.sha256(t.extractfile(m).read()).hexdigest())' "$1"
}
restore_and_count() { # ID IMAGE BEFORE LABEL
  # CRIU's restore.log goes with the bundle when the restore fails: copied as it is written
  local wd=$CKPTFS_TEST_DIR/state/io.containerd.runtime.v2.task/$ns/$1/work
  (for _ in $(seq 600); do [ -f "$wd/restore.log" ] && break; sleep 0.05; done
   exec tail -n +1 -F "$wd/restore.log" >"$W/restore-$1.log" 2>/dev/null) &
  local tailer=$!
  run_ok "ctr c restore --live --rw ($4)" tenv_ctr containers restore --live --rw "$1" "$2" ||
    { sleep 0.5; diag "$(grep -iE 'error|fail' "$W/restore-$1.log" | tail -n 15)"; }
  kill "$tailer" 2>/dev/null; wait "$tailer" 2>/dev/null
  is "$(tenv_task_status "$1")" RUNNING "restored task RUNNING ($4)"
  local c
  c=$(count_of "$1")
  ok "[ '${c:-0}' -ge '$3' ]" "restored counter continues ($3 -> $c, $4)"
  wait_for 10 count_at_least "$1" $((${c:-0} + 1))
  ok $? "restored counter keeps counting ($4)"
  is "$(tenv_cat "$1" /rw-marker)" "rw-of-$1" "rw-layer file is back ($4)"
}

# ------------------------------------------------------------ a memhog checkpoint and its cri.tar
id=$(tenv_uid cnv)
run_ok "memhog 16 MiB started" start_memhog "$id" 16
wait_for 30 count_at_least "$id" 5   # a fresh start would count from 0: a restore goes on from here
name=containerd.io/checkpoint/$id:orig
c_before=$(count_of "$id")
LIB_CMD_TIMEOUT=180 run_ok "checkpoint through the mount" \
  sh -c "echo 'name=$name' > '$mnt/$ns/containers/$id/checkpoint'"
ck=$mnt/$ns/checkpoints/$name
ok "wait_for 10 test -e '$ck/cri.tar'" "the checkpoint has cri.tar"
run_ok "cp cri.tar" cp "$ck/cri.tar" "$W/cri.tar"
orig=$BLOBS/$(image_digest "$name" | sed 's/^sha256://')
[ -f "$orig" ] || bail_out "no index of $name"
snap=$(ann_of "$orig" io.containerd.checkpoint.snapshotter)

# ------------------------------------------------------------ containerd CRI archive -> layout
cname=containerd.io/checkpoint/$id:converted
out=$("$CONVERT" "$W/cri.tar" "$W/layout" "name=$cname" "snapshotter=$snap" 2>&1)
ok $? "ckpt-convert of cri.tar"
diag "$out"
is "$(field kind "$out")" containerd-cri "kind: containerd-cri"
L=$W/layout/blobs/sha256
cidx=$L/$(field index "$out" | sed 's/^sha256://')
ok "[ -f '$cidx' ]" "the index blob is in the layout"
is "$(jq -r '.manifests[0].annotations["io.containerd.image.name"]' "$W/layout/index.json")" "$cname" \
  "index.json names the image"
is "$(jq -r .imageLayoutVersion "$W/layout/oci-layout")" 1.0.0 "oci-layout"
for k in org.opencontainers.image.ref.name io.containerd.checkpoint.runtime io.containerd.checkpoint.snapshotter; do
  is "$(ann_of "$cidx" $k)" "$(ann_of "$orig" $k)" "index annotation $k as the original's"
done
for t in criu.checkpoint.criu.tar layer.v1.tar+gzip checkpoint.config.v1+proto checkpoint.options.v1+proto; do
  d=$(desc_of x "$cidx" "$t")
  ok "[ -n '$d' ] && [ -f '$L/${d#sha256:}' ]" "descriptor $t and its blob"
done
is "$(desc_of x "$cidx" layer.v1.tar+gzip)" "$(desc_of x "$orig" layer.v1.tar+gzip)" \
  "the rw layer is the original blob, byte for byte"
is "$(field rw_recompressed "$out")" 0 "rw layer kept as it is (gzip already)"
is "$(desc_of x "$cidx" checkpoint.config.v1+proto)" "$(desc_of x "$orig" checkpoint.config.v1+proto)" \
  "the config blob is the original's (the same Any of the same spec)"
oc=$BLOBS/$(desc_of x "$orig" criu.checkpoint.criu.tar | sed 's/^sha256://')
nc=$L/$(desc_of x "$cidx" criu.checkpoint.criu.tar | sed 's/^sha256://')
is "$(tar_sums "$nc")" "$(tar_sums "$oc")" "the CRIU tar has the original's members, content for content"
is "$(field criu_files "$out")" "$(tar_sums "$oc" | wc -l)" "criu_files: the number of CRIU files"
ok "tar -tf '$nc' | grep -qx inventory.img" "the CRIU tar is flat (inventory.img at the top)"

# ------------------------------------------------------------ import, remove the original, restore
run_ok "tar of the layout" tar -C "$W/layout" -cf "$W/layout.tar" .
run_ok "ctr images import --no-unpack" tenv_ctr images import --no-unpack "$W/layout.tar"
is "$(image_digest "$cname")" "$(field index "$out")" "imported under its name and index digest"
remove_container "$id"
ok "! tenv_ctr containers ls -q | grep -qx '$id'" "the original container is gone"
restore_and_count "$id" "$cname" "$c_before" "from cri.tar"

# ------------------------------------------------------------ the same archive gzip-compressed
run_ok "gzip of cri.tar" sh -c "gzip -1 -c '$W/cri.tar' > '$W/cri.tar.gz'"
gname=containerd.io/checkpoint/$id:via-mount
out2=$("$CONVERT" "$W/cri.tar.gz" "$W/layout-gz" "name=$gname" "snapshotter=$snap" 2>&1)
ok $? "ckpt-convert of cri.tar.gz"
is "$(field index "$out2")" "$(field index "$out")" "gzip archive: the same index digest"
# the other way in: the mount's import control file (checks every blob, Images.Create)
echo "$W/layout-gz" >"$mnt/$ns/import"
ok $? "the converted layout imported through MOUNT/<ns>/import"
is "$(field result "$(cat "$mnt/$ns/import")")" ok "cat import: result ok"
is "$(image_digest "$gname")" "$(field index "$out2")" "imported under its name and index digest"
remove_container "$id"
restore_and_count "$id" "$gname" "$c_before" "imported through the mount"

# ------------------------------------------------------------ a CRI-O-style archive
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
out3=$("$CONVERT" "$W/crio.tar" "$W/layout-crio" "name=$ciname" "snapshotter=$snap" 2>&1)
ok $? "ckpt-convert of the CRI-O-style archive"
diag "$out3"
is "$(field kind "$out3")" cri-o "kind: cri-o"
is "$(field rw_recompressed "$out3")" 1 "a plain-tar rootfs-diff.tar is gzip-compressed"
is "$(field root_fixed "$out3")" 0 "a root of mode 0755 already: files.img unchanged"
L3=$W/layout-crio/blobs/sha256
cidx3=$L3/$(field index "$out3" | sed 's/^sha256://')
cfg3=$L3/$(desc_of x "$cidx3" checkpoint.config.v1+proto | sed 's/^sha256://')
like "$(tr -c '[:print:]' . <"$cfg3")" '"root":\{"path":"rootfs"' "root.path set back to rootfs"
rw3=$L3/$(desc_of x "$cidx3" layer.v1.tar+gzip | sed 's/^sha256://')
is "$(gzip -dc "$rw3" | sha256sum | cut -d' ' -f1)" "$(sha256sum <"$X/rootfs-diff.tar" | cut -d' ' -f1)" \
  "the gzip rw layer holds the plain tar"
run_ok "tar of the CRI-O layout" tar -C "$W/layout-crio" -cf "$W/layout-crio.tar" .
run_ok "import of the CRI-O conversion" tenv_ctr images import --no-unpack "$W/layout-crio.tar"
remove_container "$id"
restore_and_count "$id" "$ciname" "$c_before" "from the CRI-O-style archive"
remove_container "$id"

bad() { # FILE LABEL PATTERN
  local o
  o=$("$CONVERT" "$1" "$W/bad-out" name=x/y:z 2>&1)
  local st=$?
  ok "[ $st = 1 ]" "refused: $2"
  like "$o" "$3" "... with a clear message ($2)"
}

# ------------------------------------------------------------ a Podman export
# Podman (Debian's 4.3.1) with a private store under $W, runc, cgroupfs, no
# network; the test image loaded from the same OCI tar containerd has, so
# the restored process finds the same files. Its ulimit defaults (nofile
# 1048576, nproc) are over this host's hard limits: given explicitly.
# containers/storage makes a container's root 0555, containerd's snapshot
# root is 0755, and CRIU's restore refuses a root of another mode ("File .
# has bad mode 040755 (expect 040555)"): the converter sets the root's mode
# in files.img to 0755 (root_fixed).
podman_ok=0
if command -v podman >/dev/null 2>&1 && [ -s "${CKPTFS_TEST_IMAGE_TAR:-}" ]; then
  podman_ok=1
  PM=$W/podman
  P=(podman --root "$PM/root" --runroot "$PM/run" --tmpdir "$PM/tmp" --cgroup-manager=cgroupfs
     --events-backend=file --runtime runc)
  pm_cleanup() {
    "${P[@]}" rm -f -a >/dev/null 2>&1
    "${P[@]}" rmi -f -a >/dev/null 2>&1
    findmnt -rn -o TARGET | grep "^$PM/" | sort -r | xargs -r -n1 umount -l 2>/dev/null
  }
  trap '_st=$?; pm_cleanup; (exit $_st); _lib_on_exit' EXIT
fi
if [ $podman_ok = 1 ]; then
  pid=$(tenv_uid pdm)
  run_ok "podman load of the test image" "${P[@]}" load -i "$CKPTFS_TEST_IMAGE_TAR"
  run_ok "podman run memhog" "${P[@]}" run -d --name "$pid" --network none \
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$CKPTFS_TEST_IMAGE" \
    sh -c "echo rw-of-$pid >/rw-marker; exec memhog 8 /tmp/count"
  pcount() { "${P[@]}" exec "$pid" cat /tmp/count 2>/dev/null | tr -d '\n'; }
  pcount_at_least() { local c; c=$(pcount); [[ $c =~ ^[0-9]+$ ]] && [ "$c" -ge "$1" ]; }
  ok "wait_for 30 pcount_at_least 5" "the podman memhog counts"
  # Podman's default compression is zstd, which this build does not read;
  # a plain tar (-c none) converts as well as the gzip one restored below
  LIB_CMD_TIMEOUT=180 run_ok "podman container checkpoint --leave-running --export (default: zstd)" \
    "${P[@]}" container checkpoint -R --export "$W/podman.tar.zst" "$pid"
  bad "$W/podman.tar.zst" "Podman's default zstd export" "zstd archive"
  LIB_CMD_TIMEOUT=180 run_ok "podman container checkpoint --leave-running --export -c none" \
    "${P[@]}" container checkpoint -R --export "$W/podman.tar" -c none "$pid"
  out5=$("$CONVERT" "$W/podman.tar" "$W/layout-podman-plain" "name=x/y:z" 2>&1)
  ok $? "ckpt-convert of the plain Podman export"
  is "$(field kind "$out5")" podman "kind: podman (plain tar)"
  is "$(field criu_files "$out5")" "$(tar -tf "$W/podman.tar" | grep -c '^checkpoint/.')" \
    "criu_files: the files of its checkpoint/"
  ok "wait_for 10 pcount_at_least 1" "the podman memhog runs on after --leave-running"
  p_before=$(pcount)
  LIB_CMD_TIMEOUT=180 run_ok "podman container checkpoint --export -c gzip" \
    "${P[@]}" container checkpoint --export "$W/podman.tar.gz" -c gzip "$pid"
  out4=$("$CONVERT" "$W/podman.tar.gz" "$W/layout-podman" "name=containerd.io/checkpoint/$pid:podman" \
    "snapshotter=$snap" 2>&1)
  ok $? "ckpt-convert of the Podman export"
  diag "$out4"
  is "$(field kind "$out4")" podman "kind: podman"
  is "$(field rw_recompressed "$out4")" 1 "Podman's plain rootfs-diff.tar is gzip-compressed"
  ok "[ '$(field root_fixed "$out4")' -ge 1 ]" "files.img: the root's 0555 set to 0755 ($(field root_fixed "$out4") entries)"
  L4=$W/layout-podman/blobs/sha256
  cidx4=$L4/$(field index "$out4" | sed 's/^sha256://')
  is "$(ann_of "$cidx4" org.opencontainers.image.ref.name)" "$CKPTFS_TEST_IMAGE" "base image from config.dump"
  is "$(ann_of "$cidx4" io.containerd.checkpoint.runtime)" io.containerd.runc.v2 "runc mapped to io.containerd.runc.v2"
  run_ok "tar of the Podman layout" tar -C "$W/layout-podman" -cf "$W/layout-podman.tar" .
  run_ok "import of the Podman conversion" tenv_ctr images import --no-unpack "$W/layout-podman.tar"
  LIB_CMD_TIMEOUT=120 restore_and_count "$pid" "containerd.io/checkpoint/$pid:podman" "$p_before" "from Podman"
  remove_container "$pid"
  pm_cleanup
else
  skip "podman or the test image tar missing"
fi

# ------------------------------------------------------------ refused archives
python3 - "$W" <<'PY'
import io, sys, tarfile
w = sys.argv[1]
def mk(path, members):
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as t:
        for name, kind, extra in members:
            ti = tarfile.TarInfo(name)
            if kind == "file":
                ti.size = len(extra); t.addfile(ti, io.BytesIO(extra))
            elif kind == "sym":
                ti.type = tarfile.SYMTYPE; ti.linkname = extra; t.addfile(ti)
            elif kind == "dev":
                ti.type = tarfile.CHRTYPE; ti.devmajor = 1; ti.devminor = 3; t.addfile(ti)
base = [("checkpoint/inventory.img", "file", b"x"), ("spec.dump", "file", b"{}"),
        ("config.dump", "file", b"{}"), ("status.dump", "file", b"{}")]
mk(w + "/dotdot.tar", base + [("checkpoint/../../etc/passwd", "file", b"x")])
mk(w + "/abs.tar", base + [("/etc/passwd", "file", b"x")])
mk(w + "/sym.tar", base + [("checkpoint/link", "sym", "../../../etc/shadow")])
mk(w + "/dev.tar", base + [("dev/null", "dev", None)])
mk(w + "/notckpt.tar", [("hello.txt", "file", b"hi")])
PY
bad "$W/dotdot.tar" "a .. member" "unsafe member name"
bad "$W/abs.tar" "an absolute member" "unsafe member name: /etc/passwd is absolute"
bad "$W/sym.tar" "a symlink pointing out" "points out of the archive"
bad "$W/dev.tar" "a device file" "dev/null is a device file"
bad "$W/notckpt.tar" "not a checkpoint archive" "not a checkpoint archive"
head -c 3000 "$W/cri.tar" >"$W/trunc.tar"
bad "$W/trunc.tar" "a truncated archive" "corrupt"
printf '\x28\xb5\x2f\xfd rest' >"$W/z.tar.zst"
bad "$W/z.tar.zst" "zstd" "zstd archive"

done_testing
