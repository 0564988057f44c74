#!/usr/bin/python3
"""deploy/build-image.sh builds the k6t image offline (private podman storage, no registry)
from the local build (K6T_BUILD_DIR), and the image works: `k6t-cni` answers VERSION as the
built plugin does, k6t-handler and k6t-launcher start (their libraries are all there),
k6t-sidecar answers --help and is the entrypoint when it is built (said loudly when not), and
install-cni.sh installs a working k6t-cni into a mounted "node" CNI bin dir, idempotently.
Root (podman); skips (77) only without podman or runc.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../support"))
from checks import Checks  # noqa: E402
from private_podman import PodmanError, PrivatePodman, run  # noqa: E402

SOURCE_DIR = os.environ.get("K6T_SOURCE_DIR",
                            os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
BUILD_DIR = os.environ.get("K6T_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
TAG = "localhost/k6t-imagetest:1"
SKIP = 77

check = Checks()


def main():
    missing = [t for t in ("podman", "runc") if not shutil.which(t)]
    if missing:
        print(f"SKIP: image_test needs {' and '.join(missing)}", file=sys.stderr)
        return SKIP
    host_cni = os.path.join(BUILD_DIR, "bin", "k6t-cni")
    sidecar_built = os.access(os.path.join(BUILD_DIR, "bin", "k6t-sidecar"), os.X_OK)
    scratch = tempfile.mkdtemp(prefix="k6t-image-")
    pm = PrivatePodman(scratch)
    try:
        build = run([os.path.join(SOURCE_DIR, "deploy/build-image.sh"), "--build-dir", BUILD_DIR,
                     "--tag", TAG, "--save", os.path.join(scratch, "k6t.tar")],
                    env=dict(pm.env, PODMAN=pm.command()), check_rc=False)
        if not check(build.returncode == 0, f"build-image.sh ({build.stderr.strip()[-500:]})"):
            return 1
        print(build.stdout.strip())
        check(os.path.getsize(os.path.join(scratch, "k6t.tar")) > 0, "--save wrote an archive")

        def in_image(entrypoint, *args, env=(), volumes=()):
            cmd = ["run", "--rm", "--network", "none", "--entrypoint", entrypoint]
            for e in env:
                cmd += ["-e", e]
            for v in volumes:
                cmd += ["-v", v]
            return pm(*cmd, TAG, *args, check_rc=False)

        want = subprocess.run([host_cni], env={"CNI_COMMAND": "VERSION"}, input="",
                              capture_output=True, text=True).stdout
        got = in_image("/usr/local/bin/k6t-cni", env=["CNI_COMMAND=VERSION"])
        check(got.returncode == 0 and json.loads(got.stdout or "{}") == json.loads(want),
              f"k6t-cni VERSION in the image: {got.stdout.strip()} {got.stderr.strip()}")
        # Abseil's --help exits 1 (the launcher's flags); a missing library would be 127.
        for exe, usage in (("k6t-handler", "Usage: k6t-handler"),
                           ("k6t-launcher", "k6t-launcher --vmi FILE")):
            r = in_image(f"/usr/local/bin/{exe}", "--help")
            check(r.returncode in (0, 1) and usage in r.stdout + r.stderr,
                  f"{exe} --help starts in the image (exit {r.returncode}: "
                  f"{(r.stdout + r.stderr).strip()[:200]})")

        info = json.loads(pm("inspect", TAG).stdout)[0]["Config"]
        listed = info["Labels"].get("io.k6t.executables", "").split()
        check(info.get("Entrypoint") == ["/usr/local/bin/k6t-sidecar"],
              f"the entrypoint is k6t-sidecar ({info.get('Entrypoint')})")
        if sidecar_built:
            r = in_image("/usr/local/bin/k6t-sidecar", "--help")
            check(r.returncode == 0, f"k6t-sidecar --help in the image ({r.stderr.strip()[-200:]})")
            check("k6t-sidecar" in listed, f"the image lists k6t-sidecar ({listed})")
        else:
            print("NOTE k6t-sidecar is not built in this tree (its branch is not merged): "
                  "the image has no sidecar and its --help is not checked", flush=True)
            check("k6t-sidecar" not in listed, f"the image does not claim k6t-sidecar ({listed})")

        node_bin = os.path.join(scratch, "node-cni-bin")
        os.makedirs(node_bin)
        for attempt, expect in (("first", "installed"), ("second", "already this version")):
            r = in_image("/usr/local/bin/install-cni.sh", volumes=[f"{node_bin}:/host/opt/cni/bin"])
            check(r.returncode == 0 and expect in r.stdout,
                  f"install-cni.sh {attempt} run: {expect} ({r.stdout.strip()} {r.stderr.strip()})")
        installed = os.path.join(node_bin, "k6t-cni")
        v = subprocess.run([installed], env={"CNI_COMMAND": "VERSION"}, input="",
                           capture_output=True, text=True)
        check(v.returncode == 0 and json.loads(v.stdout or "{}") == json.loads(want),
              "the installed k6t-cni runs on the node and answers VERSION")
        check(sorted(os.listdir(node_bin)) == ["k6t-cni"], f"nothing else left in the node's "
              f"CNI bin dir ({sorted(os.listdir(node_bin))})")
    except PodmanError as e:
        check(False, f"error: {e}")
    finally:
        pm.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
