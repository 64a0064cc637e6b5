#!/usr/bin/python3
"""ckpt-variant.py LAYOUT NAME OUT.tar EDIT...: a copy of the checkpoint in
the OCI layout LAYOUT (a checkpoint's layout/ in the mount) whose CRIU tar
has the EDITs applied, as an OCI layout tar for `ctr images import
--no-unpack`, its image named NAME. Every changed blob gets its new digest,
so the copy is a valid, content-addressed checkpoint whose CRIU images are
damaged: the decoder, not the blob check, meets the damage.
EDIT: MEMBER=truncate:N (keep N bytes), MEMBER=flip:OFF (xor byte OFF with
0xff), MEMBER=delete."""
import hashlib
import io
import json
import os
import sys
import tarfile

CRIU_TAR = 'application/vnd.containerd.container.criu.checkpoint.criu.tar'
layout, name, out = sys.argv[1:4]
edits = {}
for e in sys.argv[4:]:
    member, action = e.split('=', 1)
    edits[member] = action


def blob_path(digest):
    return os.path.join(layout, 'blobs', 'sha256', digest.split(':', 1)[1])


def read_blob(digest):
    with open(blob_path(digest), 'rb') as f:
        return f.read()


def edited(data, action):
    kind, _, arg = action.partition(':')
    if kind == 'truncate':
        return data[:int(arg)]
    if kind == 'flip':
        off = int(arg, 0)
        return data[:off] + bytes([data[off] ^ 0xff]) + data[off + 1:]
    raise SystemExit(f'ckpt-variant: unknown edit {action}')


def edit_criu_tar(data):
    src = tarfile.open(fileobj=io.BytesIO(data))
    buf = io.BytesIO()
    dst = tarfile.open(fileobj=buf, mode='w', format=tarfile.USTAR_FORMAT)
    seen = set()
    for m in src.getmembers():
        body = src.extractfile(m).read() if m.isreg() else None
        if m.name in edits:
            seen.add(m.name)
            if edits[m.name] == 'delete':
                continue
            body = edited(body, edits[m.name])
            m.size = len(body)
        dst.addfile(m, io.BytesIO(body) if body is not None else None)
    dst.close()
    missing = set(edits) - seen
    if missing:
        raise SystemExit(f'ckpt-variant: no member {sorted(missing)} in the CRIU tar')
    return buf.getvalue()


blobs = {}   # digest -> bytes of every blob the copy holds


def put(data):
    d = 'sha256:' + hashlib.sha256(data).hexdigest()
    blobs[d] = data
    return d


top = json.load(open(os.path.join(layout, 'index.json')))
ck_desc = top['manifests'][0]
ck = json.loads(read_blob(ck_desc['digest']))
for desc in ck['manifests']:
    data = read_blob(desc['digest'])
    if desc['mediaType'] == CRIU_TAR:
        data = edit_criu_tar(data)
    desc['digest'], desc['size'] = put(data), len(data)
ck_bytes = json.dumps(ck, separators=(',', ':')).encode()
ck_desc = dict(ck_desc, digest=put(ck_bytes), size=len(ck_bytes))
ck_desc['annotations'] = {'io.containerd.image.name': name,
                          'org.opencontainers.image.ref.name': name.rsplit(':', 1)[-1]}
# Blobs of the layout the index does not list directly (a base image's
# manifest and config) come along unchanged.
for f in os.listdir(os.path.join(layout, 'blobs', 'sha256')):
    d = 'sha256:' + f
    if d not in blobs and d != top['manifests'][0]['digest']:
        blobs[d] = read_blob(d)

with tarfile.open(out, 'w') as t:
    def add(path, data):
        ti = tarfile.TarInfo(path)
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    add('oci-layout', b'{"imageLayoutVersion":"1.0.0"}')
    add('index.json', json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json',
                                  'manifests': [ck_desc]}).encode())
    for d, data in blobs.items():
        add('blobs/sha256/' + d.split(':', 1)[1], data)
print(ck_desc['digest'])
