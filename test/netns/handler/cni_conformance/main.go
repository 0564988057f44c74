// cni_conformance drives k6t-cni the way container runtimes do: through the real libcni
// (Debian's golang-github-appc-cni-dev, built offline), chained after the reference bridge
// plugin. Per cniVersion (0.3.1, 0.4.0, 1.0.0): two networks on one netns, ADD, every result
// interface's MAC parsed as a runtime parses it (podman: "invalid MAC address"), CHECK, DEL
// twice, DEL after the netns is gone. libcni 1.1.2 has no GC or STATUS: for cniVersion 1.1.0
// they are driven through libcni's own plugin-exec layer (pkg/invoke), as a 1.1 runtime would:
// GC of one network leaves the other's state, and DEL then removes the GC'd attachment's links
// from their derived names. Needs root (netns); prints one line per check, exits 1 on failure.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	types100 "github.com/containernetworking/cni/pkg/types/100"
)

var (
	pluginPath = flag.String("path", "", "CNI_PATH: k6t-cni's dir, then the reference plugins'")
	workDir    = flag.String("work", "", "scratch dir for k6t state, libcni cache and IPAM (default: a new temp dir, removed after)")
	failures   = 0
	cleanup    = func() {}
)

func check(ok bool, format string, a ...interface{}) {
	status := "ok  "
	if !ok {
		status = "FAIL"
		failures++
	}
	fmt.Printf("%s %s\n", status, fmt.Sprintf(format, a...))
}

func sh(args ...string) (string, error) {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	return string(out), err
}

func linkExists(netns, name string) bool {
	_, err := sh("ip", "-n", netns, "link", "show", "dev", name)
	return err == nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

type network struct {
	name, bridge, subnet, ifname, tap, k6tBridge string
}

var networks = []network{
	{"k6tconf-a", "k6tconfa0", "10.231.0.0/24", "net1", "tap1", "k6t-net1"},
	{"k6tconf-b", "k6tconfb0", "10.232.0.0/24", "net2", "tap2", "k6t-net2"},
}

func stateDir() string { return filepath.Join(*workDir, "state") }

func confList(n network, version string) *libcni.NetworkConfigList {
	text := fmt.Sprintf(`{"cniVersion":%q,"name":%q,"plugins":[
	  {"type":"bridge","bridge":%q,"ipam":{"type":"host-local","subnet":%q,"dataDir":%q}},
	  {"type":"k6t-cni","binding":"bridge","stateDir":%q}]}`,
		version, n.name, n.bridge, n.subnet, filepath.Join(*workDir, "ipam"), stateDir())
	l, err := libcni.ConfListFromBytes([]byte(text))
	if err != nil {
		fmt.Printf("FAIL conflist %s: %v\n", n.name, err)
		os.Exit(1)
	}
	return l
}

// k6t-cni's own entry of the chain as a network of the same name: libcni's CheckNetwork hands
// it the chain's cached result as prevResult. The whole list's CHECK would also run bridge's,
// which refuses a pod link that a binding renamed (README "k6t-cni", limits).
func k6tConf(n network, version string) *libcni.NetworkConfig {
	text := fmt.Sprintf(`{"cniVersion":%q,"name":%q,"type":"k6t-cni","binding":"bridge","stateDir":%q}`,
		version, n.name, stateDir())
	c, err := libcni.ConfFromBytes([]byte(text))
	if err != nil {
		fmt.Printf("FAIL conf %s: %v\n", n.name, err)
		os.Exit(1)
	}
	return c
}

func checkK6t(ctx context.Context, cni *libcni.CNIConfig, version, netns, container string, n network) error {
	return cni.CheckNetwork(ctx, k6tConf(n, version), runtimeConf(netns, container, n))
}

func runtimeConf(netns, container string, n network) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{ContainerID: container, NetNS: "/run/netns/" + netns,
		IfName: n.ifname, Args: [][2]string{{"IgnoreUnknown", "1"}, {"K8S_POD_NAME", "conformance"}}}
}

// What podman's CNI backend does with a result: every interface's MAC must parse, and the
// sandbox interfaces are the attachment's own (podman re-ADDs on one at `network reload`):
// the pod link alone, with the MAC the kernel shows under its name. k6t's bridge and tap stay
// out of the result.
func checkResult(label string, res *types100.Result, n network, netns string) {
	names, inSandbox := []string{}, []string{}
	for _, i := range res.Interfaces {
		names = append(names, i.Name)
		if i.Sandbox != "" {
			inSandbox = append(inSandbox, i.Name)
		}
		_, err := net.ParseMAC(i.Mac)
		check(err == nil, "%s: result interface %s has a MAC a runtime parses (%q)", label, i.Name, i.Mac)
	}
	check(len(names) >= 1 && names[0] == n.bridge, "%s: the chain's own interfaces: %v", label, names)
	check(len(inSandbox) == 1 && inSandbox[0] == n.ifname, "%s: one sandbox interface, %s: %v", label, n.ifname, inSandbox)
	for _, i := range res.Interfaces {
		if i.Sandbox == "" {
			continue
		}
		out, _ := sh("ip", "-n", netns, "-br", "link", "show", "dev", i.Name)
		check(i.Mac != "" && strings.Contains(out, i.Mac), "%s: %s's MAC is the kernel's: %q", label, i.Name, strings.TrimSpace(out))
	}
}

func addBoth(ctx context.Context, cni *libcni.CNIConfig, version, netns, container string) map[string]*libcni.NetworkConfigList {
	lists := map[string]*libcni.NetworkConfigList{}
	for _, n := range networks {
		l := confList(n, version)
		lists[n.name] = l
		label := fmt.Sprintf("%s %s ADD", version, n.name)
		r, err := cni.AddNetworkList(ctx, l, runtimeConf(netns, container, n))
		check(err == nil, "%s: %v", label, err)
		if err != nil {
			continue
		}
		res, err := types100.NewResultFromResult(r)
		check(err == nil, "%s: result converts to 1.0.0: %v", label, err)
		if err == nil {
			checkResult(label, res, n, netns)
		}
		check(exists(filepath.Join(stateDir(), n.name, container, n.ifname)), "%s: state kept under the network's name", label)
	}
	return lists
}

func libcniVersions(ctx context.Context, cni *libcni.CNIConfig) {
	for _, version := range []string{"0.3.1", "0.4.0", "1.0.0"} {
		netns := "k6tconf-" + strings.ReplaceAll(version, ".", "")
		container := "conformance-" + strings.ReplaceAll(version, ".", "")
		if out, err := sh("ip", "netns", "add", netns); err != nil {
			check(false, "ip netns add %s: %s", netns, out)
			continue
		}
		lists := addBoth(ctx, cni, version, netns, container)
		a, b := networks[0], networks[1]
		if version != "0.3.1" {
			for _, n := range networks {
				err := checkK6t(ctx, cni, version, netns, container, n)
				check(err == nil, "%s %s CHECK: %v", version, n.name, err)
			}
		}
		for i := 0; i < 2; i++ {
			err := cni.DelNetworkList(ctx, lists[a.name], runtimeConf(netns, container, a))
			check(err == nil, "%s %s DEL #%d: %v", version, a.name, i+1, err)
		}
		check(!linkExists(netns, a.tap) && !linkExists(netns, a.k6tBridge) && !linkExists(netns, a.ifname+"-nic"),
			"%s %s DEL: no k6t link of %s is left", version, a.name, a.ifname)
		check(!exists(filepath.Join(stateDir(), a.name, container)), "%s %s DEL: no state left", version, a.name)
		check(linkExists(netns, b.tap), "%s %s DEL: %s's tap %s untouched", version, a.name, b.name, b.tap)
		if version != "0.3.1" {
			err := checkK6t(ctx, cni, version, netns, container, b)
			check(err == nil, "%s %s CHECK after %s's DEL: %v", version, b.name, a.name, err)
		}
		sh("ip", "netns", "del", netns)
		err := cni.DelNetworkList(ctx, lists[b.name], runtimeConf(netns, container, b))
		check(err == nil, "%s %s DEL after the netns is gone: %v", version, b.name, err)
		check(!exists(filepath.Join(stateDir(), b.name, container)), "%s %s DEL after the netns is gone: no state left", version, b.name)
	}
}

// GC and STATUS (cniVersion 1.1.0) through libcni's exec layer: libcni 1.1.2 predates them.
func execK6t(ctx context.Context, command string, conf map[string]interface{}) error {
	path, err := invoke.FindInPath("k6t-cni", filepath.SplitList(*pluginPath))
	if err != nil {
		return err
	}
	bytes, _ := json.Marshal(conf)
	return invoke.ExecPluginWithoutResult(ctx, path, bytes, &invoke.Args{Command: command, Path: *pluginPath}, nil)
}

func gcAndStatus(ctx context.Context, cni *libcni.CNIConfig) {
	const netns, container = "k6tconf-110", "conformance-110"
	if out, err := sh("ip", "netns", "add", netns); err != nil {
		check(false, "ip netns add %s: %s", netns, out)
		return
	}
	defer sh("ip", "netns", "del", netns)
	lists := addBoth(ctx, cni, "1.0.0", netns, container)
	a, b := networks[0], networks[1]
	k6tRaw := func(n network) map[string]interface{} {
		return map[string]interface{}{"cniVersion": "1.1.0", "name": n.name, "type": "k6t-cni",
			"binding": "bridge", "stateDir": stateDir()}
	}
	err := execK6t(ctx, "STATUS", k6tRaw(a))
	check(err == nil, "1.1.0 STATUS: %v", err)
	listed := k6tRaw(a)
	listed["cni.dev/attachments"] = []map[string]string{{"containerID": container, "ifname": a.ifname}}
	err = execK6t(ctx, "GC", listed)
	check(err == nil && exists(filepath.Join(stateDir(), a.name, container, a.ifname)),
		"1.1.0 GC %s listing its attachment (older key cni.dev/attachments) keeps it: %v", a.name, err)
	gc := k6tRaw(a)
	gc["cni.dev/valid-attachments"] = []map[string]string{}
	err = execK6t(ctx, "GC", gc)
	check(err == nil, "1.1.0 GC %s with no valid attachment: %v", a.name, err)
	check(!exists(filepath.Join(stateDir(), a.name)), "1.1.0 GC %s: its state is gone", a.name)
	check(exists(filepath.Join(stateDir(), b.name, container, b.ifname)), "1.1.0 GC %s: %s's state untouched", a.name, b.name)
	err = checkK6t(ctx, cni, "1.0.0", netns, container, b)
	check(err == nil, "1.0.0 %s CHECK after %s's GC: %v", b.name, a.name, err)
	// The runtime's DEL of the GC'd attachment: no state, the links go by their derived names.
	err = cni.DelNetworkList(ctx, lists[a.name], runtimeConf(netns, container, a))
	check(err == nil, "1.0.0 %s DEL without state: %v", a.name, err)
	check(!linkExists(netns, a.tap) && !linkExists(netns, a.k6tBridge) && !linkExists(netns, a.ifname+"-nic"),
		"1.0.0 %s DEL without state: no k6t link of %s is left", a.name, a.ifname)
	err = cni.DelNetworkList(ctx, lists[b.name], runtimeConf(netns, container, b))
	check(err == nil && !linkExists(netns, b.tap), "1.0.0 %s DEL: %v", b.name, err)
}

func main() {
	flag.Parse()
	if *pluginPath == "" {
		fmt.Fprintln(os.Stderr, "usage: cni_conformance -path CNI_PATH [-work DIR]")
		os.Exit(2)
	}
	if *workDir == "" {
		dir, err := os.MkdirTemp("", "k6t-cni-conformance-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		*workDir = dir
		cleanup = func() { os.RemoveAll(dir) }
	}
	defer cleanup()
	ctx := context.Background()
	cni := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(*pluginPath), filepath.Join(*workDir, "cache"), nil)
	libcniVersions(ctx, cni)
	gcAndStatus(ctx, cni)
	for _, n := range networks {
		sh("ip", "link", "del", n.bridge)
	}
	if failures > 0 {
		fmt.Printf("%d check(s) failed\n", failures)
		cleanup()
		os.Exit(1)
	}
	fmt.Println("all checks passed")
}
