#!/usr/bin/python3
"""A variant of a VM manifest with only some of its interfaces, for the hotplug tests.

  vm_variant.py FULL.yaml OUT.yaml NAME[:STATE]...

Keeps the listed interfaces (in that order), each with `state: STATE` when given
(up/down/absent), and only their networks; the other documents (NADs) stay as they are.
"""
import sys

import yaml

src, out, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
docs = list(yaml.safe_load_all(open(src)))
spec = docs[0]["spec"]["template"]["spec"]
by_name = {i["name"]: i for i in spec["domain"]["devices"]["interfaces"]}
ifaces, names = [], set()
for w in wanted:
    name, _, state = w.partition(":")
    i = dict(by_name[name])
    if state:
        i["state"] = state
    ifaces.append(i)
    names.add(name)
spec["domain"]["devices"]["interfaces"] = ifaces
spec["networks"] = [n for n in spec["networks"] if n["name"] in names]
yaml.safe_dump_all(docs, open(out, "w"), sort_keys=False)
