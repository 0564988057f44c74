#!/usr/bin/env python3
"""Packages a VM disk image as a KubeVirt containerDisk: an OCI image whose single layer holds
/disk/<name> owned 107:107 (KubeVirt's qemu user) with mode 0440, written as an OCI image-layout
directory and, optionally, as an OCI archive (a tar of that directory, which also carries a
docker-save style manifest.json so `docker load` / `podman load` accept it).

  containerdisk.py --disk disk.qcow2 --ref k6t.local/debian12-cloud:latest \
      --layout OUT/oci [--archive OUT/image.oci.tar] [--label k=v ...]

Deterministic: the same disk bytes, reference and labels give the same digests (fixed mtimes,
no user names, sorted JSON), so the image digest identifies the content. The layer is an
uncompressed tar (application/vnd.oci.image.layer.v1.tar, which every OCI implementation must
read): the qcow2 inside is already compressed, gzip would only cost time. Stdlib only; prints
the manifest digest on stdout.
"""
import argparse
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile

QEMU_UID = QEMU_GID = 107  # KubeVirt runs QEMU as 107:107; the disk must be readable by it.
EPOCH = 0  # fixed mtime in the layer: the digest depends on the disk bytes only
CHUNK = 1 << 20

MT_LAYOUT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar"


class HashingWriter:
    """A file wrapper that hashes and counts what is written through it."""

    def __init__(self, f):
        self.f, self.sha, self.size = f, hashlib.sha256(), 0

    def write(self, b):
        self.sha.update(b)
        self.size += len(b)
        return self.f.write(b)


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def put_blob(blobs, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest, len(data)


def write_layer(blobs, disk, name):
    """Streams /disk/<name> into a tar blob; returns (digest, size)."""
    tmp = os.path.join(blobs, ".layer.tmp")
    with open(tmp, "wb") as raw:
        out = HashingWriter(raw)
        with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            d = tarfile.TarInfo("disk/")
            d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o555, EPOCH
            d.uid, d.gid = QEMU_UID, QEMU_GID
            tar.addfile(d)
            f = tarfile.TarInfo("disk/" + name)
            f.size, f.mode, f.mtime = os.path.getsize(disk), 0o440, EPOCH
            f.uid, f.gid = QEMU_UID, QEMU_GID
            with open(disk, "rb") as src:
                tar.addfile(f, src)
    digest = out.sha.hexdigest()
    os.replace(tmp, os.path.join(blobs, digest))
    return "sha256:" + digest, out.size


def build_layout(layout, disk, ref, labels):
    repo, _, tag = ref.rpartition(":")
    if not repo or "/" in tag:
        sys.exit(f"containerdisk: --ref must be NAME:TAG, got {ref!r}")
    if os.path.exists(layout):
        shutil.rmtree(layout)
    blobs = os.path.join(layout, "blobs", "sha256")
    os.makedirs(blobs)
    layer_digest, layer_size = write_layer(blobs, disk, os.path.basename(disk))
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": labels} if labels else {},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},  # uncompressed: diff_id == digest
        "history": [{"created_by": "k6t hack/containerdisk.py: /disk/" + os.path.basename(disk)}],
    }
    cfg_digest, cfg_size = put_blob(blobs, canonical(config))
    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": cfg_digest, "size": cfg_size},
        "layers": [{"mediaType": MT_LAYER, "digest": layer_digest, "size": layer_size}],
    }
    man_digest, man_size = put_blob(blobs, canonical(manifest))
    index = {
        "schemaVersion": 2,
        "mediaType": MT_LAYOUT_INDEX,
        "manifests": [{
            "mediaType": MT_MANIFEST, "digest": man_digest, "size": man_size,
            "platform": {"architecture": "amd64", "os": "linux"},
            # ref.name: the tag (skopeo/umoci `oci:DIR:TAG`); containerd's full image name.
            "annotations": {"org.opencontainers.image.ref.name": tag, "io.containerd.image.name": ref},
        }],
    }
    with open(os.path.join(layout, "index.json"), "wb") as f:
        f.write(canonical(index))
    with open(os.path.join(layout, "oci-layout"), "wb") as f:
        f.write(canonical({"imageLayoutVersion": "1.0.0"}))
    # docker-save's manifest.json beside the OCI files: the archive then loads in docker too.
    docker = [{"Config": "blobs/sha256/" + cfg_digest[7:], "RepoTags": [ref],
               "Layers": ["blobs/sha256/" + layer_digest[7:]]}]
    with open(os.path.join(layout, "manifest.json"), "wb") as f:
        f.write(canonical(docker))
    return man_digest


def write_archive(layout, archive):
    """Tars the layout (files in a fixed order, fixed owner/mtime) to archive, atomically."""
    tmp = archive + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        def add(rel):
            info = tar.gettarinfo(os.path.join(layout, rel), arcname=rel)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = EPOCH
            if info.isdir():
                tar.addfile(info)
            else:
                with open(os.path.join(layout, rel), "rb") as f:
                    tar.addfile(info, f)
        for rel in ("oci-layout", "index.json", "manifest.json", "blobs", "blobs/sha256"):
            add(rel)
        for name in sorted(os.listdir(os.path.join(layout, "blobs", "sha256"))):
            add("blobs/sha256/" + name)
    os.replace(tmp, archive)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--disk", required=True, help="disk image file (qcow2 or raw) to put under /disk/")
    p.add_argument("--ref", required=True, help="image reference NAME:TAG recorded in index.json")
    p.add_argument("--layout", required=True, help="OCI image-layout directory to (re)create")
    p.add_argument("--archive", help="also write this OCI archive (tar of the layout)")
    p.add_argument("--label", action="append", default=[], help="image config label KEY=VALUE")
    a = p.parse_args()
    labels = dict(kv.split("=", 1) for kv in a.label)
    digest = build_layout(a.layout, a.disk, a.ref, labels)
    if a.archive:
        write_archive(a.layout, a.archive)
    print(digest)


if __name__ == "__main__":
    main()
