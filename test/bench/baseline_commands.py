#!/usr/bin/python3
"""The KubeVirt-style baseline of a pod's plumbing, as a bash script.

Reads `k6t-handler plan --output json` on stdin and writes, for every planned operation in
order, the command KubeVirt's virt-handler would run: one `ip` or `nft` process per
operation (nft: `add table`, one `add chain` per chain, one `add rule` per rule; sysctls are
written in-process, as virt-handler does). The same translation as plumbing_bench.cc's
baseline, for the whole-process benchmarks that only have the executables' plan output.

  k6t-handler plan --output json ... | test/bench/baseline_commands.py >baseline.sh
  ip netns exec POD bash baseline.sh      (prints "START_US END_US" around the commands)

An operation with no translation is an error (exit 1): the baseline never skips work.
"""

import json
import shlex
import sys

IP = "/usr/sbin/ip"
NFT = "/usr/sbin/nft"


def ip(*args):
    return shlex.join([IP, *map(str, args)])


def nft(words):
    # One argument, as `nft 'add rule ...'`: nft parses it like a line of its own.
    return shlex.join([NFT, " ".join(words)])


def nft_table(op):
    family, name = op["family"], op["name"]
    chains, rules, chain = [], [], None
    for raw in op["body"].split("\n"):
        line = raw.strip()
        if not line:
            continue
        if chain is None:
            if not (line.startswith("chain ") and line.endswith("{")):
                raise ValueError(f"table-level nft line: {line}")
            chain = line[len("chain "):-1].strip()
            chains.append(["add", "chain", family, name, chain])
        elif line == "}":
            chain = None
        elif line.startswith("type "):  # a base chain: `{ type ...; policy ...; }`
            chains[-1] += ["{", line, "}"]
        else:
            rules.append(["add", "rule", family, name, chain, line])
    return [nft(["add", "table", family, name])] + [nft(c) for c in chains + rules]


def translate(op):
    kind = op["op"]
    if kind in ("create_bridge", "create_placeholder"):
        args = ["link", "add", op["name"]]
        if op.get("mac"):
            args += ["address", op["mac"]]
        if op.get("mtu", 0) > 0:
            args += ["mtu", op["mtu"]]
        link_type = "bridge" if kind == "create_bridge" else op.get("kind", "dummy")
        return [ip(*args, "type", link_type)]
    if kind == "create_tap":
        args = ["tuntap", "add", "dev", op["name"], "mode", "tap", "user", op["owner"],
                "group", op["group"]]
        if op.get("queues", 1) > 1:
            args.append("multi_queue")
        out = [ip(*args)]
        if op.get("mtu", 0) > 0:
            out.append(ip("link", "set", "dev", op["name"], "mtu", op["mtu"]))
        return out
    if kind == "rename_link":
        return [ip("link", "set", "dev", op["from"], "down"),
                ip("link", "set", "dev", op["from"], "name", op["to"])]
    if kind == "set_link_mac":
        return [ip("link", "set", "dev", op["link"], "address", op["mac"])]
    if kind == "set_link_mtu":
        return [ip("link", "set", "dev", op["link"], "mtu", op["mtu"])]
    if kind == "set_link_master":
        return [ip("link", "set", "dev", op["link"], "master", op["master"])]
    if kind == "set_link_up":
        return [ip("link", "set", "dev", op["link"], "up" if op["up"] else "down")]
    if kind == "set_port_learning":
        return [ip("link", "set", "dev", op["link"], "type", "bridge_slave", "learning",
                   "on" if op["learning"] else "off")]
    if kind == "add_address":
        return [ip("addr", "add", op["cidr"], "dev", op["link"])]
    if kind == "flush_addresses":
        return [ip("addr", "flush", "dev", op["link"])]
    if kind == "add_route":
        args = ["route", "add", op["destination"]]
        if op.get("gateway"):
            args += ["via", op["gateway"]]
        return [ip(*args, "dev", op["link"])]
    if kind == "set_sysctl":
        path = "/proc/sys/net/" + op["key"]
        return [f"printf %s {shlex.quote(op['value'])} >{shlex.quote(path)}"]
    if kind == "nft_table":
        return nft_table(op)
    raise ValueError(f"no baseline translation for operation {kind!r}")


def main():
    plan = json.load(sys.stdin)
    lines = ["set -e", "t0=${EPOCHREALTIME/./}"]
    processes = 0
    for iface in plan["interfaces"]:
        for op in iface["ops"]:
            cmds = translate(op)
            processes += sum(1 for c in cmds if not c.startswith("printf "))
            lines += cmds
    lines.append("t1=${EPOCHREALTIME/./}")
    lines.append('echo "$t0 $t1"')
    lines.append(f"# {processes} processes")
    print("\n".join(lines))


if __name__ == "__main__":
    try:
        main()
    except (ValueError, KeyError) as e:
        sys.stderr.write(f"baseline_commands: {e}\n")
        sys.exit(1)
