"""Podman with everything private to a scratch directory, for tests: storage (vfs), runroot,
containers.conf, registries.conf (no search registries: nothing is ever pulled) and the CNI
config dir, so the host's podman setup is neither read nor changed.

Why `default_ulimits`: podman as root asks runc for nofile and nproc 1048576; runc sets them
with prlimit on the container's init, which cannot raise a hard limit without
CAP_SYS_RESOURCE. Hosts whose capability bounding set lacks it (this CI sandbox: nofile hard
20000, nproc 32768 inherited through conmon) fail every `podman run` with EPERM; limits below
the inherited ones are always allowed.
"""

import json
import os
import subprocess
import time


class PodmanError(RuntimeError):
    pass


def run(cmd, env=None, check_rc=True, input_text=None):
    p = subprocess.run(cmd, env=env, input=input_text, capture_output=True, text=True)
    if check_rc and p.returncode != 0:
        raise PodmanError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    return p


class PrivatePodman:
    def __init__(self, scratch, cni_plugin_dirs=(), cni_config_dir=None):
        self.scratch = scratch
        cni_config_dir = cni_config_dir or os.path.join(scratch, "cni")
        os.makedirs(cni_config_dir, exist_ok=True)
        conf = os.path.join(scratch, "containers.conf")
        with open(conf, "w") as f:
            f.write(f"""[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[network]
network_backend = "cni"
cni_plugin_dirs = {json.dumps(list(cni_plugin_dirs) + ["/usr/lib/cni"])}
network_config_dir = "{cni_config_dir}"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "{scratch}/libpod-tmp"
""")
        storage = os.path.join(scratch, "storage.conf")
        with open(storage, "w") as f:
            f.write(f'[storage]\ndriver = "vfs"\ngraphroot = "{scratch}/root"\n'
                    f'runroot = "{scratch}/runroot"\n')
        registries = os.path.join(scratch, "registries.conf")
        with open(registries, "w") as f:
            f.write("unqualified-search-registries = []\n")
        self.env = dict(os.environ, CONTAINERS_CONF=conf, CONTAINERS_STORAGE_CONF=storage,
                        CONTAINERS_REGISTRIES_CONF=registries)
        self.base = ["podman", "--root", os.path.join(scratch, "root"),
                     "--runroot", os.path.join(scratch, "runroot"), "--storage-driver", "vfs"]
        self.cni_config_dir = cni_config_dir

    def command(self):
        """The podman command line, for scripts that take it whole (PODMAN=...)."""
        return " ".join(self.base)

    def __call__(self, *args, check_rc=True):
        t0 = time.monotonic()
        p = run(self.base + list(args), env=self.env, check_rc=check_rc)
        if os.environ.get("K6T_PODMAN_TIMES"):
            print(f"     podman {args[0]}: {time.monotonic() - t0:.1f} s", flush=True)
        return p

    def cleanup(self):
        self("rm", "-a", "-f", check_rc=False)
        self("rmi", "-a", "-f", check_rc=False)
