#!/usr/bin/python3
"""k6t-cni under a real runtime: podman 4.3's CNI backend (libcni inside) runs a conflist that
chains the reference `bridge` plugin into k6t-cni (bridge binding, and masquerade).

Everything podman keeps is private to a scratch directory (storage, runroot, containers.conf,
the CNI config dir, host-local IPAM and k6t's state); the image is imported from a rootfs made
by deploy/mkrootfs.sh (busybox-static plus iproute2's `ip`), no registry. What is left outside
it: the host bridges of the `bridge` plugin (k6tpd-*, deleted at the end), libcni's result
cache (/var/lib/cni/results, checked empty for our containers) and podman's /run/netns files.

Checks, per container and network: the links and addresses inside the container (`ip -d -j
link`, `ip -j addr`) are what the plan k6t-cni recorded says (its ops replayed into a model),
and podman's view of the network's MAC is the container's; `podman network reload` (DEL then
ADD with MAC/IP CNI_ARGS) keeps the guest MAC and address; stop/start; two networks on one
container in either order; after stop and rm no k6t state, no libcni cache entry, no host veth.

Podman's setup (and why it sets default_ulimits on this host): test/support/private_podman.py.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../support"))
from checks import Checks  # noqa: E402
from private_podman import PodmanError, PrivatePodman, run  # noqa: E402

SKIP = 77
SOURCE_DIR = os.environ.get("K6T_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../../.."))
CNI_BIN = os.environ.get("K6T_CNI")  # the built k6t-cni
PREFIX = "k6tpd"
NETWORKS = {  # name -> (host bridge, subnet, k6t binding)
    f"{PREFIX}-bridge": (f"{PREFIX}-br0", "10.88.77.0/24", "bridge"),
    f"{PREFIX}-blue": (f"{PREFIX}-br1", "10.88.78.0/24", "bridge"),
    f"{PREFIX}-masq": (f"{PREFIX}-br2", "10.88.79.0/24", "masquerade"),
}
IMAGE = f"localhost/{PREFIX}-busybox:test"

check = Checks()


def write_networks(pm, scratch):
    """One conflist per NETWORKS entry: the reference bridge plugin, then k6t-cni."""
    state = os.path.join(scratch, "k6t")
    for name, (bridge, subnet, binding) in NETWORKS.items():
        conf = {"cniVersion": "1.0.0", "name": name, "plugins": [
            {"type": "bridge", "bridge": bridge, "isGateway": True,
             # `ranges`, as podman writes its own conflists: it reads subnets only from there
             "ipam": {"type": "host-local", "ranges": [[{"subnet": subnet}]],
                      "dataDir": os.path.join(scratch, "ipam")}},
            {"type": "k6t-cni", "binding": binding, "stateDir": state}]}
        with open(os.path.join(pm.cni_config_dir, f"{name}.conflist"), "w") as f:
            json.dump(conf, f)
    return state


def in_ctr(pm, cid, *cmd):
    return json.loads(pm("exec", cid, "/usr/local/bin/ip", *cmd).stdout)


def attachment_dir(state, network, cid, ifname):
    return os.path.join(state, network, cid, ifname)


def load_plan(state, network, cid, ifname):
    d = os.path.join(attachment_dir(state, network, cid, ifname), "interfaces")
    files = sorted(os.listdir(d))
    assert len(files) == 1, f"{d}: one interface state expected, found {files}"
    with open(os.path.join(d, files[0])) as f:
        return json.load(f)["plan"]


def replay(plan):
    """The links and addresses the plan's ops leave behind: name -> {kind, mac, mtu, master,
    addrs}. Ops that do not shape links (sysctls, nftables, ...) are not modelled."""
    links = {}
    for op in plan["ops"]:
        kind = op["op"]
        if kind == "create_bridge":
            links[op["name"]] = {"kind": "bridge", "mac": op.get("mac"), "mtu": op.get("mtu"),
                                 "addrs": set()}
        elif kind == "create_tap":
            links[op["name"]] = {"kind": "tap", "mtu": op.get("mtu"), "addrs": set()}
        elif kind == "create_placeholder":
            links[op["name"]] = {"kind": op.get("kind"), "mac": op.get("mac"),
                                 "mtu": op.get("mtu"), "addrs": set()}
        elif kind == "rename_link":
            links[op["to"]] = links.pop(op["from"], {"addrs": set()})
        elif kind == "set_link_mac":
            links.setdefault(op["link"], {"addrs": set()})["mac"] = op["mac"]
        elif kind == "set_link_master":
            links.setdefault(op["link"], {"addrs": set()})["master"] = op["master"]
        elif kind == "add_address":
            links.setdefault(op["link"], {"addrs": set()})["addrs"].add(op["cidr"])
        elif kind == "flush_addresses":
            links.setdefault(op["link"], {"addrs": set()})["addrs"] = set()
    return links


def link_kind(link):
    info = link.get("linkinfo", {})
    if info.get("info_kind") == "tun":
        return info.get("info_data", {}).get("type")
    return info.get("info_kind")


def check_matches_plan(pm, state, cid, network, ifname, what):
    plan = load_plan(state, network, cid, ifname)
    links = {l["ifname"]: l for l in in_ctr(pm, cid, "-d", "-j", "link", "show")}
    addrs = {a["ifname"]: {f"{i['local']}/{i['prefixlen']}" for i in a.get("addr_info", [])
                           if i.get("scope") != "link"}
             for a in in_ctr(pm, cid, "-j", "addr", "show")}
    for name, want in replay(plan).items():
        got = links.get(name)
        if not check(got is not None, f"{what}: {name} exists (plan)"):
            continue
        if want.get("kind"):
            check(link_kind(got) == want["kind"], f"{what}: {name} is a {want['kind']} "
                  f"(got {link_kind(got)})")
        if want.get("mac"):
            check(got["address"] == want["mac"], f"{what}: {name} MAC {want['mac']} "
                  f"(got {got['address']})")
        if want.get("mtu"):
            check(got["mtu"] == want["mtu"], f"{what}: {name} MTU {want['mtu']}")
        if want.get("master"):
            check(got.get("master") == want["master"], f"{what}: {name} master "
                  f"{want['master']} (got {got.get('master')})")
        check(want["addrs"] <= addrs.get(name, set()), f"{what}: {name} has {sorted(want['addrs'])}"
              f" (got {sorted(addrs.get(name, set()))})")
    device = plan["device"]
    tap = links.get(device["tap"], {})
    check(link_kind(tap) == "tap" and tap.get("mtu") == plan["mtu"],
          f"{what}: the domain's device {device['tap']} is a tap with MTU {plan['mtu']}")
    inspect = json.loads(pm("inspect", cid).stdout)[0]["NetworkSettings"]["Networks"][network]
    # One sandbox interface in the result, the pod link, as runtimes assume (podman's network
    # reload re-ADDs on it): k6t's bridge and tap are not the attachment's interfaces.
    seen = sorted([inspect["MacAddress"]] + (inspect.get("AdditionalMACAddresses") or []))
    want = [links.get(ifname, {}).get("address") or "?"]
    check(seen == want, f"{what}: podman parsed the kernel's MAC of the pod link {ifname} only "
          f"{want} (got {seen})")
    return plan, {n: l["address"] for n, l in links.items()}


def libcni_cache(cid):
    d = "/var/lib/cni/results"
    return [f for f in os.listdir(d) if cid in f] if os.path.isdir(d) else []


def check_no_state(state, cid, what):
    leftovers = [os.path.join(r, f) for n in NETWORKS for r, _, fs in
                 os.walk(os.path.join(state, n, cid)) for f in fs]
    check(not leftovers, f"{what}: no k6t state for the container (found {leftovers})")
    check(not libcni_cache(cid), f"{what}: no libcni cache entry (found {libcni_cache(cid)})")


def host_ports():
    """Host links enslaved to our bridges (the bridge plugin's veths)."""
    out = json.loads(run(["ip", "-j", "link", "show"]).stdout)
    return [l["ifname"] for l in out if l.get("master", "").startswith(PREFIX)]


def start(pm, name, networks):
    return pm("run", "-d", "--name", name, "--stop-timeout", "1", "--network",
              ",".join(networks), IMAGE, "sleep", "100000").stdout.strip()


def ifname_of(pm, cid, network):
    """Podman hands out eth0, eth1, ... in the order it attaches networks; k6t's state names it."""
    for ifname in os.listdir(os.path.join(pm.state, network, cid)):
        return ifname
    raise PodmanError(f"no attachment of {network} for {cid}")


def scenario_single(pm, network):
    what = f"{network}"
    cid = start(pm, f"{PREFIX}-one-{network}", [network])
    ifname = ifname_of(pm, cid, network)
    check_matches_plan(pm, pm.state, cid, network, ifname, f"{what} run")

    pm("stop", cid)
    check_no_state(pm.state, cid, f"{what} stop")
    pm("start", cid)
    check_matches_plan(pm, pm.state, cid, network, ifname_of(pm, cid, network), f"{what} start")

    sandbox = json.loads(pm("inspect", cid).stdout)[0]["NetworkSettings"]["SandboxKey"]
    pm("rm", "-f", cid)
    check_no_state(pm.state, cid, f"{what} rm")
    check(not os.path.exists(sandbox), f"{what} rm: the netns {sandbox} is gone")


def scenario_reload(pm, network, rounds):
    """`podman network reload`: DEL, then ADD with the MAC and IP podman read from the result.
    Podman 4.3 takes the interface name and MAC of an arbitrary one of the network's sandbox
    interfaces (it iterates a Go map; libpod reloadContainerNetwork): when k6t-cni listed its
    bridge and tap, it re-ADDed on k6t-eth0 or tap0 at random (2 of 5 runs of 3 reloads),
    leaving a stale libcni cache entry for that name. Hence the precondition, checked first:
    one sandbox interface in the result; then `rounds` reloads."""
    what = f"{network} reload"
    cid = start(pm, f"{PREFIX}-reload", [network])
    ifname = ifname_of(pm, cid, network)
    plan, macs = check_matches_plan(pm, pm.state, cid, network, ifname, f"{what} run")
    inspect = json.loads(pm("inspect", cid).stdout)[0]["NetworkSettings"]["Networks"][network]
    check(not inspect.get("AdditionalMACAddresses"), f"{what}: the result has one sandbox "
          f"interface, as podman's reload assumes (extra: {inspect.get('AdditionalMACAddresses')})")
    for i in range(rounds):
        p = pm("network", "reload", cid, check_rc=False)
        if not check(p.returncode == 0, f"{what} {i}: podman network reload ({p.stderr.strip()})"):
            break
        attached = sorted(os.listdir(os.path.join(pm.state, network, cid)))
        if not check(attached == [ifname], f"{what} {i}: re-ADDed on {ifname} (k6t state for "
                     f"{attached})"):
            break
        plan2, macs2 = check_matches_plan(pm, pm.state, cid, network, ifname, f"{what} {i}")
        check(plan2["mac"] == plan["mac"], f"{what} {i}: guest MAC kept ({plan['mac']})")
        check(sorted(macs2) == sorted(macs), f"{what} {i}: same links, none leaked "
              f"({sorted(macs2)})")
    pm("rm", "-f", cid)
    check_no_state(pm.state, cid, f"{what} rm")


def scenario_two(pm, order):
    what = "+".join(order)
    cid = start(pm, f"{PREFIX}-two-{len(order)}-{order[0]}", order)
    ifnames = {n: ifname_of(pm, cid, n) for n in order}
    check(len(set(ifnames.values())) == 2, f"{what}: one pod link per network ({ifnames})")
    taps = set()
    for n in order:
        plan, _ = check_matches_plan(pm, pm.state, cid, n, ifnames[n], f"{what} {n}")
        taps.add(plan["device"]["tap"])
    check(len(taps) == 2, f"{what}: two taps ({sorted(taps)})")
    pm("stop", cid)
    check_no_state(pm.state, cid, f"{what} stop")
    pm("rm", "-f", cid)
    check_no_state(pm.state, cid, f"{what} rm")


def main():
    missing = [t for t in ("podman", "runc") if not shutil.which(t)]
    if missing:
        print(f"SKIP: podman_cni_test needs {' and '.join(missing)} (apt-get install podman runc)",
              file=sys.stderr)
        return SKIP
    if not CNI_BIN or not os.access(CNI_BIN, os.X_OK):
        print(f"FAIL: K6T_CNI={CNI_BIN!r} is not the built k6t-cni", file=sys.stderr)
        return 1
    scratch = tempfile.mkdtemp(prefix=f"{PREFIX}-")
    pm = PrivatePodman(scratch, cni_plugin_dirs=[os.path.dirname(CNI_BIN)])
    try:
        pm.state = write_networks(pm, scratch)
        rootfs = os.path.join(scratch, "rootfs.tar")
        ip = shutil.which("ip")
        run([os.path.join(SOURCE_DIR, "deploy/mkrootfs.sh"), rootfs, os.path.realpath(ip)])
        pm("import", "-q", rootfs, IMAGE)
        listed = pm("network", "ls", "--format", "{{.Name}}").stdout.split()
        check(all(n in listed for n in NETWORKS), f"podman lists the k6t networks ({listed})")

        if "--reload" in sys.argv:
            scenario_reload(pm, f"{PREFIX}-bridge", rounds=3)
        else:
            scenario_single(pm, f"{PREFIX}-bridge")
            scenario_single(pm, f"{PREFIX}-masq")
            scenario_two(pm, [f"{PREFIX}-bridge", f"{PREFIX}-blue"])
            scenario_two(pm, [f"{PREFIX}-blue", f"{PREFIX}-bridge"])
        check(not host_ports(), f"no host veth left on the test bridges ({host_ports()})")
    except (PodmanError, AssertionError, KeyError, OSError) as e:
        check(False, f"error: {e}")
    finally:
        pm.cleanup()
        for bridge, _, _ in NETWORKS.values():
            run(["ip", "link", "del", bridge], check_rc=False)
        shutil.rmtree(scratch, ignore_errors=True)
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
