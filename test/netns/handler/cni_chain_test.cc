// k6t-cni chained after the real bridge plugin, run the way Multus (libcni) runs a plugin
// list: hack/pod-sim execs every plugin of a NetworkAttachmentDefinition in order with
// prevResult, DEL in reverse, CHECK with the cached result; k6t-cni is found through
// CNI_PATH like any plugin. Direct invocations below use the same environment and stdin.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "k6t/api/decode.h"
#include "k6t/api/naming.h"
#include "k6t/binding/pod_network.h"
#include "test/support/netns_snapshot.h"
#include "test/support/pod_sim.h"
#include "test/support/shell.h"

namespace k6t::handler {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;
using testsupport::CommandResult;
using testsupport::NetnsSnapshot;
using testsupport::PodSim;
using testsupport::Sh;
using testsupport::ShOk;

constexpr char kChainVm[] = "test/netns/handler/testdata/cni-chain-vm.yaml";
constexpr char kPlainVm[] = "test/netns/handler/testdata/cni-plain-vm.yaml";
constexpr char kStateRoot[] = "/run/k6t-cni-test";  // the NADs' stateDir

class CniChainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string path = "/usr/lib/cni:" + testsupport::BuildDir() + "/bin";
    ::setenv("POD_SIM_CNI_PATH", path.c_str(), 1);
  }
  // Every attachment's DEL removed its own dir; the root goes once no parallel run uses it.
  static void TearDownTestSuite() { ::rmdir(kStateRoot); }
};

json PodJson(const PodSim& pod) {
  std::ifstream in(pod.state_dir() + "/pod.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str(), nullptr, false);
}

json Net(const PodSim& pod, const std::string& network) {
  const json pod_json = PodJson(pod);
  for (const auto& n : pod_json["networks"])
    if (n["network"] == network) return n;
  ADD_FAILURE() << "network " << network << " is not attached to " << pod.name();
  return json::object();
}

// The k6t-cni entry of a network's plugin list, as pod-sim ran it (name, cniVersion set).
json K6tConf(const json& net) { return net["plugins"].back(); }

// <stateDir>/<network name>/<containerid>/<ifname>, the network named by k6t-cni's `conf`.
std::string AttachmentDir(const PodSim& pod, const json& conf, const std::string& ifname) {
  return absl::StrCat(kStateRoot, "/", conf["name"].get<std::string>(), "/",
                      PodJson(pod)["container_id"].get<std::string>(), "/", ifname);
}

struct CniRun {
  int exit_code = -1;
  std::string stdout_text;
  json out;  // parsed stdout, null when empty
};

// One k6t-cni process from the pod's node netns, with the CNI_* environment and `conf` on
// stdin, as libcni execs it.
CniRun Cni(const PodSim& pod, const std::string& command, const std::string& ifname,
           const std::string& stdin_text, const std::string& netns) {
  const std::string file = testsupport::TempDir() + "/conf.json";
  std::ofstream(file) << stdin_text;
  const std::string cmd = absl::StrCat(
      "( ip netns exec ", pod.node_netns(), " env -i CNI_COMMAND=", command,
      " CNI_CONTAINERID=", PodJson(pod)["container_id"].get<std::string>(), " CNI_NETNS=", netns,
      " CNI_IFNAME=", ifname, " CNI_PATH=/usr/lib/cni:", testsupport::BuildDir(), "/bin",
      " CNI_ARGS='IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=", pod.name(), "' ",
      testsupport::BuildDir(), "/bin/k6t-cni < ", file, " 2>/dev/null )");
  CommandResult r = Sh(cmd);
  Sh("rm -rf " + file.substr(0, file.rfind('/')));
  CniRun run{r.exit_code, r.output, nullptr};
  if (!r.output.empty()) run.out = json::parse(r.output, nullptr, false);
  return run;
}

CniRun Cni(const PodSim& pod, const std::string& command, const std::string& ifname,
           const json& conf, const std::string& netns) {
  return Cni(pod, command, ifname, conf.dump(), netns);
}

json WithPrev(json conf, const json& prev) {
  conf["prevResult"] = prev;
  return conf;
}

// The namespace's layout without what is unique to one pod: MACs (seeded by the sandbox) and
// the bridge binding's DHCP server address 169.254.75.1<N> (N = the interface's index in the
// VMI; k6t-cni sees a one-interface VMI).
std::string Layout(const std::string& ns) {
  std::string out;
  for (const auto& line : absl::StrSplit(NetnsSnapshot(ns), '\n')) {
    std::string l(line);
    if (l.find("169.254.75.") != std::string::npos) continue;
    out += std::regex_replace(l, std::regex(" mac=\\S+"), "") + "\n";
  }
  return out;
}

std::vector<std::string> SandboxInterfaces(const json& result, const std::string& netns) {
  std::vector<std::string> names;
  for (const auto& i : result["interfaces"])
    if (i.value("sandbox", "") == netns) names.push_back(i["name"]);
  return names;
}

TEST_F(CniChainTest, ChainBuildsWhatTheHandlerBuildsForEachBinding) {
  PodSim cni(kChainVm);
  ASSERT_TRUE(cni.ok()) << cni.error();
  PodSim plain(kPlainVm);
  ASSERT_TRUE(plain.ok()) << plain.error();
  binding::PodNetworkRequest req;
  auto vmi = api::DecodeSingleVmiFile(testsupport::SourceDir() + "/" + kPlainVm);
  ASSERT_TRUE(vmi.ok()) << vmi.status();
  req.vmi = *vmi;
  req.pod_netns = plain.netns_path();
  req.state_dir = testsupport::TempDir();
  req.network_status = plain.NetworkStatus();
  req.options = binding::DefaultPlannerOptions();
  auto setup = SetupPodNetwork(req);
  ASSERT_TRUE(setup.ok()) << setup.status();

  // Same links (names, kinds, masters, MTUs, up), addresses, routes, NAT and sysctls.
  const std::string layout = Layout(cni.name());
  EXPECT_EQ(layout, Layout(plain.name()));
  const std::string blue = api::HashedPodInterfaceName("blue");
  const std::string green = api::HashedPodInterfaceName("green");
  EXPECT_THAT(layout, HasSubstr("link tap0 kind=tun mtu=1400 master=k6t-eth0 up=1"));
  EXPECT_THAT(layout, HasSubstr(absl::StrCat("link ", green.substr(3),
                                             "-nic kind=veth mtu=1500 "
                                             "master=k6t-",
                                             green.substr(3), " up=1")));
  EXPECT_THAT(layout, HasSubstr(absl::StrCat("addr ", blue, " 192.168.100.2/24")));
  EXPECT_THAT(layout, HasSubstr("table ip k6t_nat"));
  EXPECT_THAT(ShOk(absl::StrCat("ip -n ", cni.name(), " -o link show dev tap", blue.substr(3))),
              HasSubstr("master k6t-" + blue.substr(3)));

  // Each result is the bridge plugin's: one sandbox interface, the attachment's own (k6t's
  // bridge and tap are not listed: runtimes take every sandbox interface for the attachment's).
  const std::string sandbox = cni.netns_path();
  struct Want {
    std::string network, ifname, bridge, tap, version;
  };
  for (const Want& w :
       {Want{"default", "eth0", "k6t-eth0", "tap0", "1.0.0"},
        Want{"blue", blue, "k6t-" + blue.substr(3), "tap" + blue.substr(3), "1.0.0"},
        Want{"green", green, "k6t-" + green.substr(3), "tap" + green.substr(3), "0.4.0"}}) {
    const json result = Net(cni, w.network)["result"];
    EXPECT_EQ(result["cniVersion"], w.version) << w.network;
    EXPECT_THAT(SandboxInterfaces(result, sandbox), ::testing::ElementsAre(w.ifname))
        << result.dump();
    ASSERT_EQ(result["ips"].size(), 1u) << result.dump();
    const json& ip = result["ips"][0];
    EXPECT_EQ(result["interfaces"][ip["interface"].get<size_t>()]["name"], w.ifname);
    if (w.version == "0.4.0") {
      EXPECT_EQ(ip["version"], "4");
    }
    EXPECT_TRUE(std::filesystem::exists(AttachmentDir(cni, K6tConf(Net(cni, w.network)), w.ifname) +
                                        "/interfaces"));
    // Every interface carries a MAC (libcni runtimes parse them all); under the pod link's
    // name the kernel shows the one the result names.
    for (const auto& i : result["interfaces"])
      EXPECT_THAT(i.value("mac", ""), ::testing::MatchesRegex("([0-9a-f]{2}:){5}[0-9a-f]{2}"))
          << i.dump();
    const json pod_link = result["interfaces"][ip["interface"].get<size_t>()];
    EXPECT_EQ(pod_link["mac"],
              json::parse(ShOk(absl::StrCat("ip -n ", cni.name(), " -j link show dev ",
                                            w.ifname)))[0]["address"]);
    EXPECT_TRUE(ShOk(absl::StrCat("ip -n ", cni.name(), " -o link show dev ", w.tap)).size() > 0)
        << "the tap exists, it is just not listed";
    // CHECK as libcni sends it: the cached result as prevResult.
    const json conf = WithPrev(K6tConf(Net(cni, w.network)), result);
    CniRun check = Cni(cni, "CHECK", w.ifname, conf, sandbox);
    EXPECT_EQ(check.exit_code, 0) << w.network << ": " << check.stdout_text;
    EXPECT_EQ(check.stdout_text, "");
  }
  auto t = TeardownPodNetwork(req);
  ASSERT_TRUE(t.ok()) << t.status();
  Sh("rm -rf " + req.state_dir);
}

TEST_F(CniChainTest, SecondaryBindingsCheckDriftAndDelTwice) {
  PodSim pod(kChainVm);
  ASSERT_TRUE(pod.ok()) << pod.error();
  const std::string tool = pod.Tool();
  for (const std::string network : {"blue", "green"}) {
    SCOPED_TRACE(network);
    const std::string ifname = api::HashedPodInterfaceName(network);
    const std::string base = ifname.substr(3);
    // Detach, then attach again as Multus' dynamic networks do: the namespace without the
    // network is the baseline DEL must return to.
    ShOk(absl::StrCat(tool, " remove-network --name ", pod.name(), " --network ", network));
    const std::string before = NetnsSnapshot(pod.name());
    ShOk(absl::StrCat(tool, " add-network --name ", pod.name(), " --vm ", testsupport::SourceDir(),
                      "/", kChainVm, " --network ", network));
    const json net = Net(pod, network);
    const json conf = WithPrev(K6tConf(net), net["result"]);
    EXPECT_EQ(Cni(pod, "CHECK", ifname, conf, pod.netns_path()).exit_code, 0);

    // Drift: a changed MAC on the renamed CNI link, then a missing tap.
    const std::string nic = base + "-nic";
    const std::string mac = json::parse(
        ShOk(absl::StrCat("ip -n ", pod.name(), " -j link show dev ", nic)))[0]["address"];
    ShOk(absl::StrCat("ip -n ", pod.name(), " link set dev ", nic, " address 02:00:00:00:00:99"));
    CniRun drift = Cni(pod, "CHECK", ifname, conf, pod.netns_path());
    EXPECT_EQ(drift.exit_code, 1);
    EXPECT_EQ(drift.out["code"], 101) << drift.stdout_text;
    EXPECT_THAT(drift.out.value("details", ""), HasSubstr(nic + " has MAC 02:00:00:00:00:99"));
    ShOk(absl::StrCat("ip -n ", pod.name(), " link set dev ", nic, " address ", mac));
    EXPECT_EQ(Cni(pod, "CHECK", ifname, conf, pod.netns_path()).exit_code, 0);
    ShOk(absl::StrCat("ip -n ", pod.name(), " link del tap", base));
    drift = Cni(pod, "CHECK", ifname, conf, pod.netns_path());
    EXPECT_EQ(drift.exit_code, 1);
    EXPECT_EQ(drift.out["code"], 101) << drift.stdout_text;
    EXPECT_THAT(drift.out.value("details", ""), HasSubstr("tap" + base + " is missing"));

    // DEL in reverse order (k6t-cni, then bridge) with the tap already gone: the CNI link gets
    // its name back, so the bridge plugin finds and deletes it; nothing of either remains.
    ShOk(absl::StrCat(tool, " remove-network --name ", pod.name(), " --network ", network));
    EXPECT_EQ(NetnsSnapshot(pod.name()), before);
    EXPECT_FALSE(std::filesystem::exists(AttachmentDir(pod, conf, ifname)));
    // DEL again, and DEL after the sandbox is gone: both succeed and change nothing.
    CniRun again = Cni(pod, "DEL", ifname, conf, pod.netns_path());
    EXPECT_EQ(again.exit_code, 0) << again.stdout_text;
    EXPECT_EQ(Cni(pod, "DEL", ifname, conf, "/run/netns/k6t-cni-gone").exit_code, 0);
    EXPECT_EQ(NetnsSnapshot(pod.name()), before);
  }
}

TEST_F(CniChainTest, MasqueradeOnEth0CheckedAndDeletedLikeMultus) {
  PodSim pod(kChainVm);
  ASSERT_TRUE(pod.ok()) << pod.error();
  const std::string check = absl::StrCat(pod.Tool(), " check --name ", pod.name());
  // pod-sim checks every network in order, eth0 first: bridge's CHECK, then k6t-cni's.
  EXPECT_THAT(Sh(check).output, HasSubstr("CHECK ok: default (eth0)"));
  ShOk(absl::StrCat("ip -n ", pod.name(), " link del tap0"));
  const CommandResult drift = Sh(check);
  EXPECT_NE(drift.exit_code, 0);
  EXPECT_THAT(drift.output, HasSubstr("CNI CHECK k6t-cni for network 'podnet' (eth0) failed: "
                                      "code 101"));
  EXPECT_THAT(drift.output, HasSubstr("tap0 is missing"));

  const json net = Net(pod, "default");
  const json conf = WithPrev(K6tConf(net), net["result"]);
  for (int i = 0; i < 2; ++i) {
    CniRun del = Cni(pod, "DEL", "eth0", conf, pod.netns_path());
    EXPECT_EQ(del.exit_code, 0) << del.stdout_text;
  }
  const std::string links = ShOk(absl::StrCat("ip -n ", pod.name(), " -o link show"));
  EXPECT_THAT(links, Not(HasSubstr("k6t-eth0")));
  EXPECT_THAT(links, HasSubstr("eth0"));
  EXPECT_THAT(pod.Exec("nft list ruleset"), Not(HasSubstr("k6t_nat")));
  EXPECT_FALSE(std::filesystem::exists(AttachmentDir(pod, conf, "eth0")));
}

TEST_F(CniChainTest, OwnAttachmentPlumbsThePodLinkItIsTold) {
  constexpr char kVm[] = "test/netns/handler/testdata/cni-plugin-nad-vm.yaml";
  PodSim pod(kVm);
  ASSERT_TRUE(pod.ok()) << pod.error();
  const std::string ifname = api::HashedPodInterfaceName("k6t");
  const json result = Net(pod, "k6t")["result"];
  // Nothing chained before: the result lists the pod link it plumbed, with the kernel's MAC.
  EXPECT_THAT(SandboxInterfaces(result, pod.netns_path()), ::testing::ElementsAre("eth0"))
      << result.dump();
  EXPECT_EQ(result["interfaces"][0]["mac"],
            json::parse(
                ShOk(absl::StrCat("ip -n ", pod.name(), " -j link show dev eth0")))[0]["address"]);
  EXPECT_THAT(ShOk(absl::StrCat("ip -n ", pod.name(), " -o link show dev tap0")),
              HasSubstr("master k6t-eth0"));
  EXPECT_THAT(pod.Exec("nft list ruleset"), HasSubstr("table ip k6t_nat"));
  EXPECT_EQ(Sh(absl::StrCat(pod.Tool(), " check --name ", pod.name())).exit_code, 0);
  const json conf = K6tConf(Net(pod, "k6t"));
  ShOk(absl::StrCat(pod.Tool(), " remove-network --name ", pod.name(), " --network k6t"));
  const std::string without = NetnsSnapshot(pod.name());
  EXPECT_THAT(without, Not(HasSubstr("k6t-eth0")));
  EXPECT_FALSE(std::filesystem::exists(AttachmentDir(pod, conf, ifname)));
  ShOk(absl::StrCat(pod.Tool(), " add-network --name ", pod.name(), " --vm ",
                    testsupport::SourceDir(), "/", kVm, " --network k6t"));
  EXPECT_THAT(NetnsSnapshot(pod.name()), HasSubstr("link k6t-eth0 kind=bridge"));
  ShOk(absl::StrCat(pod.Tool(), " remove-network --name ", pod.name(), " --network k6t"));
  EXPECT_EQ(NetnsSnapshot(pod.name()), without);
}

TEST_F(CniChainTest, BadInputIsTheSpecErrorAndChangesNothing) {
  PodSim pod(kChainVm);
  ASSERT_TRUE(pod.ok()) << pod.error();
  const std::string before = NetnsSnapshot(pod.name());

  // Through the chain: red-net's k6t-cni names a binding k6t does not have; the runtime's DEL
  // of the list removes the bridge plugin's link again.
  const CommandResult red =
      Sh(absl::StrCat(pod.Tool(), " add-network --name ", pod.name(), " --vm ",
                      testsupport::SourceDir(), "/", kChainVm, " --network red"));
  EXPECT_NE(red.exit_code, 0);
  EXPECT_THAT(red.output, HasSubstr("code 7: binding: \"macvtap\" is not bridge, l2bridge or "
                                    "masquerade"));
  EXPECT_EQ(NetnsSnapshot(pod.name()), before);

  const json blue = Net(pod, "blue");
  const json conf = K6tConf(blue);
  const std::string ifname = api::HashedPodInterfaceName("blue");
  struct Case {
    std::string what, ifname, stdin_text;
    int code;
  };
  json unknown = WithPrev(conf, blue["result"]);
  unknown["binding"] = "sriov";
  json no_link = WithPrev(
      conf, json::parse(absl::StrCat(R"({"cniVersion":"1.0.0","interfaces":[{"name":"net7",)",
                                     R"("sandbox":")", pod.netns_path(), R"("}],"ips":[]})")));
  for (const Case& c : {
           Case{"malformed config", ifname, "{\"cniVersion\":", 6},
           Case{"unknown binding", ifname, unknown.dump(), 7},
           Case{"no prevResult", ifname, conf.dump(), 7},
           Case{"prevResult lacks CNI_IFNAME", "net9", WithPrev(conf, blue["result"]).dump(), 7},
           // Not there yet (the previous plugin still at work): retryable.
           Case{"prevResult names a link the netns lacks", "net7", no_link.dump(), 11},
       }) {
    SCOPED_TRACE(c.what);
    CniRun r = Cni(pod, "ADD", c.ifname, c.stdin_text, pod.netns_path());
    EXPECT_EQ(r.exit_code, 1) << r.stdout_text;
    ASSERT_TRUE(r.out.is_object()) << r.stdout_text;
    EXPECT_EQ(r.out["code"], c.code) << r.stdout_text;
    EXPECT_FALSE(r.out.value("msg", "").empty());
    EXPECT_EQ(NetnsSnapshot(pod.name()), before);
    if (c.ifname != ifname) {
      EXPECT_FALSE(std::filesystem::exists(AttachmentDir(pod, conf, c.ifname)));
    }
  }
}

}  // namespace
}  // namespace k6t::handler
