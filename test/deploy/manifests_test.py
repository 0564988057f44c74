#!/usr/bin/python3
"""deploy/manifests: parsed, cross-checked, and each NAD run through k6t-cni.

  manifests_test.py names   (unit) every document parses; the names agree across the NADs,
                            the KubeVirt CR patch, the example VM and the DaemonSet; and the
                            same checks reject broken copies (a renamed binding, a dangling
                            NAD reference, a wrong k6t-cni binding), so they can fail.
  manifests_test.py cni     (netns, root) hack/pod-sim builds the example VM's pod the way
                            Multus and KubeVirt would: the pod network, the k6t-bridge chain,
                            and the k6t-masquerade NAD KubeVirt adds for the pod-network
                            interface; k6t-cni (K6T_CNI) plumbs each, CNI CHECK passes, DEL
                            leaves no k6t state.
"""

import copy
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../support"))
from checks import Checks  # noqa: E402

SOURCE_DIR = os.environ.get("K6T_SOURCE_DIR",
                            os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
MANIFESTS = os.path.join(SOURCE_DIR, "deploy/manifests")
SKIP = 77


def load_docs():
    docs = []
    for path in sorted(glob.glob(os.path.join(MANIFESTS, "*.yaml"))):
        with open(path) as f:
            docs += [(os.path.basename(path), d) for d in yaml.safe_load_all(f) if d]
    return docs


def of_kind(docs, kind):
    return [d for _, d in docs if d.get("kind") == kind]


def nad_config(nad):
    return json.loads(nad["spec"]["config"])


def k6t_plugin(conf):
    """The k6t-cni entry of a NAD config (a plugin list, or a single plugin) and whether it is
    chained after another plugin."""
    plugins = conf.get("plugins", [conf])
    k6t = [p for p in plugins if p.get("type") == "k6t-cni"]
    return (k6t[0] if len(k6t) == 1 else None), len(plugins) > 1


def vm_spec(vm):
    return vm["spec"]["template"]["spec"] if vm["kind"] == "VirtualMachine" else vm["spec"]


def project_version():
    with open(os.path.join(SOURCE_DIR, "CMakeLists.txt")) as f:
        for line in f:
            if line.startswith("project(k6t VERSION"):
                return line.split()[2]
    return None


def name_errors(docs):
    """Every disagreement between the manifests, as sentences; empty when they agree."""
    errors = []
    nads = {f"{n['metadata'].get('namespace', 'default')}/{n['metadata']['name']}": n
            for n in of_kind(docs, "NetworkAttachmentDefinition")}
    crs, vms = of_kind(docs, "KubeVirt"), of_kind(docs, "VirtualMachine")
    daemonsets = of_kind(docs, "DaemonSet")
    if len(crs) != 1 or len(vms) != 1 or len(daemonsets) != 1 or len(nads) != 2:
        return [f"expected 1 KubeVirt, 1 VirtualMachine, 1 DaemonSet, 2 NADs; found "
                f"{len(crs)}, {len(vms)}, {len(daemonsets)}, {len(nads)}"]
    bindings = crs[0]["spec"]["configuration"]["network"]["binding"]
    ds_spec = daemonsets[0]["spec"]["template"]["spec"]
    images = {c["image"] for c in ds_spec["initContainers"] + ds_spec["containers"]}
    want_image = f"localhost/k6t:{project_version()}"
    if images != {want_image}:
        errors.append(f"DaemonSet images {sorted(images)}, not the built {want_image}")

    for nad_key, nad in nads.items():
        conf = nad_config(nad)
        if conf.get("name") != nad["metadata"]["name"]:
            errors.append(f"NAD {nad_key}: config name {conf.get('name')!r} differs")
        plugin, chained = k6t_plugin(conf)
        if plugin is None:
            errors.append(f"NAD {nad_key}: no (single) k6t-cni plugin")
            continue
        binding = bindings.get(nad["metadata"]["name"])
        if binding is None:
            errors.append(f"NAD {nad_key}: no KubeVirt binding of that name")
        elif f"k6t-{plugin.get('binding')}" != nad["metadata"]["name"]:
            errors.append(f"NAD {nad_key}: k6t-cni binding {plugin.get('binding')!r} is not "
                          f"what the name says")
        if chained != ("podInterface" not in plugin):
            errors.append(f"NAD {nad_key}: chained NADs plumb their own link, standalone ones "
                          f"name podInterface")
        if chained and conf["plugins"][-1] is not plugin:
            errors.append(f"NAD {nad_key}: k6t-cni must come after the network's own plugin")

    for name, b in bindings.items():
        where = f"KubeVirt binding {name}"
        if b.get("sidecarImage") not in images:
            errors.append(f"{where}: sidecarImage {b.get('sidecarImage')!r} is not the image "
                          f"the DaemonSet installs k6t-cni from ({sorted(images)})")
        if b.get("domainAttachmentType") != "tap":
            errors.append(f"{where}: domainAttachmentType must be tap")
        if b.get("downwardAPI") != "device-info":
            errors.append(f"{where}: downwardAPI must be device-info")
        if not isinstance(b.get("migration"), dict):
            errors.append(f"{where}: no migration")
        if not (b.get("computeResourceOverhead") or {}).get("requests"):
            errors.append(f"{where}: no computeResourceOverhead.requests")
        ref = b.get("networkAttachmentDefinition")
        if ref is not None and ref not in nads:
            errors.append(f"{where}: networkAttachmentDefinition {ref} is not in deploy/")
        elif ref is not None and k6t_plugin(nad_config(nads[ref]))[1]:
            errors.append(f"{where}: its NAD {ref} must be k6t-cni alone (podInterface)")

    spec = vm_spec(vms[0])
    networks = {n["name"]: n for n in spec["networks"]}
    vm_ns = vms[0]["metadata"].get("namespace", "default")
    for iface in spec["domain"]["devices"]["interfaces"]:
        where = f"VM interface {iface['name']}"
        bname = (iface.get("binding") or {}).get("name")
        net = networks.get(iface["name"])
        if bname not in bindings:
            errors.append(f"{where}: binding {bname!r} is not registered in the KubeVirt CR")
            continue
        if net is None:
            errors.append(f"{where}: no network of that name")
        elif "pod" in net and not bindings[bname].get("networkAttachmentDefinition"):
            errors.append(f"{where}: the pod network's binding needs its NAD in the CR")
        elif "multus" in net:
            ref = net["multus"]["networkName"]
            ref = ref if "/" in ref else f"{vm_ns}/{ref}"
            if ref not in nads:
                errors.append(f"{where}: multus network {ref} is not in deploy/")
            elif nads[ref]["metadata"]["name"] != bname:
                errors.append(f"{where}: binding {bname} on network {ref}, whose k6t-cni "
                              f"plumbs {nads[ref]['metadata']['name']}")
    return errors


def mutations(docs):
    """Broken copies the checks must reject: (what, docs)."""
    def edit(fn):
        d = copy.deepcopy(docs)
        fn(d)
        return d

    def vm(d):
        return vm_spec(of_kind(d, "VirtualMachine")[0])

    def cr(d):
        return of_kind(d, "KubeVirt")[0]["spec"]["configuration"]["network"]["binding"]

    def nad(d, name):
        return next(n for n in of_kind(d, "NetworkAttachmentDefinition")
                    if n["metadata"]["name"] == name)

    def rebind(d):
        n = nad(d, "k6t-bridge")
        conf = nad_config(n)
        conf["plugins"][-1]["binding"] = "l2bridge"
        n["spec"]["config"] = json.dumps(conf)

    return [
        ("VM binding renamed", edit(lambda d: vm(d)["domain"]["devices"]["interfaces"][1]
                                    .update(binding={"name": "k6t-brige"}))),
        ("CR NAD reference dangling", edit(lambda d: cr(d)["k6t-masquerade"]
                                           .update(networkAttachmentDefinition="default/nope"))),
        ("k6t-cni binding differs from the NAD name", edit(rebind)),
        ("sidecarImage differs", edit(lambda d: cr(d)["k6t-bridge"]
                                      .update(sidecarImage="example.com/k6t:9"))),
        ("VM multus network renamed", edit(lambda d: vm(d)["networks"][1]["multus"]
                                           .update(networkName="k6t-masquerade"))),
    ]


def cmd_names():
    docs = load_docs()
    print(f"parsed {len(docs)} documents from {MANIFESTS}")
    check = Checks()
    errors = name_errors(docs)
    check(not errors, f"the names agree across NADs, CR, VM and DaemonSet ({errors})")
    for what, broken in mutations(docs):
        found = name_errors(broken)
        check(bool(found), f"rejects a broken copy ({what}): {found[:1]}")
    return check.exit_code()


def pod_sim_vm(docs, state_dir):
    """The example VM and the NADs as pod-sim reads them: k6t-cni's state in the scratch dir,
    and the binding NAD KubeVirt adds for the pod-network interface as an extra multus
    network (KubeVirt does that from the CR; pod-sim does not read the CR)."""
    vm = copy.deepcopy(of_kind(docs, "VirtualMachine")[0])
    bindings = of_kind(docs, "KubeVirt")[0]["spec"]["configuration"]["network"]["binding"]
    spec = vm_spec(vm)
    pod_nets = {n["name"] for n in spec["networks"] if "pod" in n}
    for iface in spec["domain"]["devices"]["interfaces"]:
        ref = bindings[iface["binding"]["name"]].get("networkAttachmentDefinition")
        if iface["name"] in pod_nets and ref:
            spec["networks"].append({"name": f"{iface['name']}-binding",
                                     "multus": {"networkName": ref}})
    out = [vm]
    for nad in of_kind(docs, "NetworkAttachmentDefinition"):
        nad = copy.deepcopy(nad)
        conf = nad_config(nad)
        k6t_plugin(conf)[0]["stateDir"] = state_dir
        nad["spec"]["config"] = json.dumps(conf)
        out.append(nad)
    return out


def cmd_cni():
    cni = os.environ.get("K6T_CNI")
    if os.geteuid() != 0:
        print("SKIP: manifests_test.py cni needs root (netns)", file=sys.stderr)
        return SKIP
    if not cni or not os.access(cni, os.X_OK):
        print(f"FAIL: K6T_CNI={cni!r} is not the built k6t-cni", file=sys.stderr)
        return 1
    docs = load_docs()
    scratch = tempfile.mkdtemp(prefix="k6t-deploy-")
    state = os.path.join(scratch, "k6t")
    vm_file = os.path.join(scratch, "vm.yaml")
    with open(vm_file, "w") as f:
        yaml.safe_dump_all(pod_sim_vm(docs, state), f)
    pod = "k6tdeploy"
    env = dict(os.environ, POD_SIM_CNI_PATH=f"{os.path.dirname(cni)}:/usr/lib/cni")
    sim = [os.path.join(SOURCE_DIR, "hack/pod-sim")]
    check = Checks()

    def sim_run(*args):
        return subprocess.run(sim + list(args), env=env, capture_output=True, text=True)

    try:
        up = sim_run("up", "--name", pod, "--vm", vm_file, "--state-dir",
                     os.path.join(scratch, "pod"))
        check(up.returncode == 0, f"pod-sim up through every NAD ({up.stderr.strip()[-400:]})")
        links = json.loads(subprocess.run(["ip", "-n", pod, "-d", "-j", "link"],
                                          capture_output=True, text=True).stdout or "[]")
        taps = {l["ifname"] for l in links
                if l.get("linkinfo", {}).get("info_data", {}).get("type") == "tap"}
        for nad in of_kind(docs, "NetworkAttachmentDefinition"):
            name = nad["metadata"]["name"]
            plans = glob.glob(os.path.join(state, name, "*", "*", "interfaces", "*.json"))
            check(len(plans) == 1, f"{name}: k6t-cni recorded one plan ({plans})")
            for p in plans:
                with open(p) as f:
                    plan = json.load(f)["plan"]
                want = f"{name.removeprefix('k6t-')}"
                check(plan["binding"] == want, f"{name}: plan binding {plan['binding']}")
                check(plan["device"]["tap"] in taps,
                      f"{name}: the pod has the plan's tap {plan['device']['tap']} ({sorted(taps)})")
        # CHECK k6t-cni's step of each attachment as a runtime would (the whole chain's CHECK
        # stops at the reference bridge plugin, whose CHECK fails once a binding renamed its
        # link: README "k6t-cni", Limits).
        with open(os.path.join(scratch, "pod", "pod.json")) as f:
            pod_json = json.load(f)
        for net in pod_json["networks"]:
            plugin = k6t_plugin(net["conf"])[0]
            if plugin is None:
                continue
            conf = dict(plugin, name=net["conf"]["name"], cniVersion=net["conf"]["cniVersion"],
                        prevResult=net["result"])
            chk = subprocess.run(
                [cni], input=json.dumps(conf), capture_output=True, text=True,
                env=dict(os.environ, CNI_COMMAND="CHECK", CNI_IFNAME=net["ifname"],
                         CNI_CONTAINERID=pod_json["container_id"],
                         CNI_NETNS=pod_json["pod_netns_path"], CNI_PATH=env["POD_SIM_CNI_PATH"]))
            check(chk.returncode == 0, f"{net['conf']['name']}: k6t-cni CHECK ({chk.stdout})")
    finally:
        down = sim_run("del", "--name", pod)
        check(down.returncode == 0, f"pod-sim del ({down.stderr.strip()[-400:]})")
    left = [os.path.join(r, f) for r, _, fs in os.walk(state) for f in fs]
    check(not left, f"no k6t state after DEL ({left})")
    shutil.rmtree(scratch, ignore_errors=True)
    return check.exit_code()


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "names":
        sys.exit(cmd_names())
    if mode == "cni":
        sys.exit(cmd_cni())
    print(__doc__, file=sys.stderr)
    sys.exit(2)
