#!/usr/bin/python3
"""Writes an OCI image layout tar of a checkpoint whose CRIU dump has one
damaged image, for `ctr images import --no-unpack` (test-proc.sh).

  ckpt-damage.py LAYOUT_DIR OUT_TAR NAME MEMBER HOW

LAYOUT_DIR: a checkpoint's layout/ in the mount (oci-layout, index.json,
blobs/sha256/); NAME: the image name of the copy; MEMBER: a file of the
CRIU tar (pstree.img); HOW: "truncate:N" keeps its first N bytes,
"length:V" sets the u32 length of its first record (bytes 8..11) to V.
The CRIU tar is written again (ustar, same members in the same order), the
checkpoint index names it, the layout's index.json names that index."""
import hashlib
import io
import json
import os
import struct
import sys
import tarfile

MT_CRIU = "application/vnd.containerd.container.criu.checkpoint.criu.tar"


def blob(d, digest):
    with open(os.path.join(d, "blobs", "sha256", digest.split(":")[1]), "rb") as f:
        return f.read()


def damage(data, how):
    kind, arg = how.split(":")
    if kind == "truncate":
        return data[: int(arg)]
    if kind == "length":
        return data[:8] + struct.pack("<I", int(arg, 0)) + data[12:]
    raise SystemExit("unknown HOW " + how)


def rewrite_criu(data, member, how):
    src = tarfile.open(fileobj=io.BytesIO(data))
    out = io.BytesIO()
    dst = tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT)
    found = False
    for m in src.getmembers():
        body = src.extractfile(m).read() if m.isfile() else None
        if m.name in (member, "./" + member):
            body = damage(body, how)
            m.size = len(body)
            found = True
        dst.addfile(m, io.BytesIO(body) if body is not None else None)
    dst.close()
    if not found:
        raise SystemExit("no member " + member)
    return out.getvalue()


def main():
    layout, out_tar, name, member, how = sys.argv[1:6]
    top = json.load(open(os.path.join(layout, "index.json")))
    idx_desc = top["manifests"][0]
    idx = json.loads(blob(layout, idx_desc["digest"]))
    new = {}
    for d in idx["manifests"]:
        if d["mediaType"] == MT_CRIU:
            criu = rewrite_criu(blob(layout, d["digest"]), member, how)
            d["digest"] = "sha256:" + hashlib.sha256(criu).hexdigest()
            d["size"] = len(criu)
            new[d["digest"]] = criu
    idx_bytes = json.dumps(idx).encode()
    idx_desc["digest"] = "sha256:" + hashlib.sha256(idx_bytes).hexdigest()
    idx_desc["size"] = len(idx_bytes)
    new[idx_desc["digest"]] = idx_bytes
    ann = idx_desc.setdefault("annotations", {})
    ann["io.containerd.image.name"] = name
    ann["org.opencontainers.image.ref.name"] = name.rsplit(":", 1)[-1]
    with tarfile.open(out_tar, "w") as t:
        def add(path, data):
            ti = tarfile.TarInfo(path)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
        add("oci-layout", open(os.path.join(layout, "oci-layout"), "rb").read())
        add("index.json", json.dumps(top).encode())
        names = set(os.listdir(os.path.join(layout, "blobs", "sha256")))
        for hexd in sorted(names):
            add("blobs/sha256/" + hexd, blob(layout, "sha256:" + hexd))
        for digest, data in new.items():
            if digest.split(":")[1] not in names:
                add("blobs/sha256/" + digest.split(":")[1], data)


main()
