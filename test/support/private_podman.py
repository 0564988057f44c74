"""Podman with everything private to a scratch directory, for tests: storage (vfs), runroot,
containers.conf, registries.conf (no search registries: nothing is ever pulled) and the CNI
config dir, so the host's podman setup is neither read nor changed.

Why `default_ulimits`: podman as root writes nofile and nproc 1048576 into the container's
config; runc's parent sets them on the container's init with prlimit(2), and raising a hard
limit needs CAP_SYS_RESOURCE. Podman itself first sets its own nproc to 32768 and tries nofile
1048576 (EPERM without the capability, falling back to the inherited 20000 here); conmon and
runc inherit those, so on a host whose capability bounding set lacks CAP_SYS_RESOURCE (this CI
sandbox) every `podman run` fails with "error setting rlimit type 7 (then 6): operation not
permitted" (strace: prlimit64(<init>, RLIMIT_NOFILE, {1048576, 1048576}) = EPERM), also with
--ulimit set to the shell's limits (nproc 96367 > 32768). Limits at or below what runc
inherits are always allowed.
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
