// k6t-cni's parsing and encoding without privileges: the stdin configuration and prevResult,
// the CNI_* environment, results per spec version, the error JSON and its codes, and the
// commands that need no namespace (VERSION, DEL of a vanished sandbox, GC), and ADD/CHECK/DEL
// driven whole on a FakeKernel (the session's seams) for the result's MACs, the retryable
// missing pod link and DEL without state.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cni/cni_config.h"
#include "cni/cni_error.h"
#include "cni/cni_plugin.h"
#include "cni/cni_request.h"
#include "cni/cni_result.h"
#include "k6t/binding/testing/fake_pod.h"

namespace k6t::handler::cni {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kPrev[] = R"({"cniVersion":"1.0.0",
  "interfaces":[{"name":"br-blue","mac":"aa:00:00:00:00:01"},
                {"name":"veth1","mac":"aa:00:00:00:00:02"},
                {"name":"net1","mac":"AA:00:00:00:00:03","sandbox":"/run/netns/p"}],
  "ips":[{"interface":2,"address":"192.168.100.5/24","gateway":"192.168.100.1"}],
  "routes":[{"dst":"0.0.0.0/0"}],"dns":{}})";

std::string Conf(const std::string& extra, const std::string& version = "1.0.0") {
  return absl::StrCat(R"({"cniVersion":")", version,
                      R"(","name":"blue-net","type":"k6t-cni","binding":"bridge")", extra, "}");
}

EnvLookup Env(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* k) -> const char* {
    auto it = shared->find(k);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

std::map<std::string, std::string> AddEnv(const std::string& command = "ADD") {
  return {{"CNI_COMMAND", command}, {"CNI_CONTAINERID", "c0ffee"}, {"CNI_NETNS", "/run/netns/p"},
          {"CNI_IFNAME", "net1"},   {"CNI_PATH", "/usr/lib/cni"},  {"CNI_ARGS", "K8S_POD_NAME=vm"}};
}

json ErrorJson(const Outcome& o) {
  EXPECT_EQ(o.exit_code, 1) << o.output;
  auto j = json::parse(o.output, nullptr, false);
  EXPECT_TRUE(j.is_object()) << o.output;
  return j;
}

TEST(CniConfigTest, ParsesTheDocumentedSchema) {
  auto c = ParseConfig(Conf(absl::StrCat(
      R"(,"vmInterface":"blue","macAddress":"02:00:00:00:00:0A","mtu":1400,"primary":true,)",
      R"("tapOwner":0,"tapGroup":36,"stateDir":"/tmp/x","args":{"ignored":1},"prevResult":)",
      kPrev)));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->binding, "bridge");
  EXPECT_EQ(c->vm_interface, "blue");
  EXPECT_EQ(c->mac_address, "02:00:00:00:00:0a");  // canonical, like the VMI decoder's
  EXPECT_EQ(c->mtu, 1400);
  EXPECT_TRUE(c->primary);
  EXPECT_EQ(c->tap_owner, 0u);
  EXPECT_EQ(c->tap_group, 36u);
  EXPECT_EQ(c->state_dir, "/tmp/x");
  ASSERT_TRUE(c->prev_result);
  ASSERT_EQ(c->prev_result->interfaces.size(), 3u);
  EXPECT_EQ(c->prev_result->ips[0].interface, 2);
  const ResultInterface* pod = SandboxInterface(*c->prev_result, "net1");
  ASSERT_NE(pod, nullptr);
  EXPECT_EQ(pod->sandbox, "/run/netns/p");
  EXPECT_EQ(SandboxInterface(*c->prev_result, "veth1"), nullptr);  // host side
}

TEST(CniConfigTest, DefaultsVmInterfaceAndStateDir) {
  auto c = ParseConfig(Conf(""));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->vm_interface, "blue-net");
  EXPECT_EQ(c->state_dir, kDefaultStateDir);
  EXPECT_FALSE(c->prev_result);
}

TEST(CniConfigTest, ErrorsCarryTheSpecCodes) {
  struct Case {
    std::string text;
    int code;
    std::string msg;
  };
  const std::vector<Case> cases = {
      {"{not json", kDecodingFailure, "not valid JSON"},
      {"[1,2]", kDecodingFailure, "expected an object"},
      {std::string(40, '[') + std::string(40, ']'), kDecodingFailure, "nested deeper"},
      {Conf(R"(,"mtu":"1400")"), kDecodingFailure, "mtu: expected an integer"},
      {Conf(R"(,"prevResult":{"interfaces":{}})"), kDecodingFailure,
       "prevResult.interfaces: expected a list"},
      {Conf("", "0.2.0"), kIncompatibleVersion, "cniVersion 0.2.0 is not supported"},
      {R"({"name":"x","binding":"bridge"})", kInvalidNetworkConfig, "cniVersion: is required"},
      {R"({"cniVersion":"1.0.0","name":"x","binding":"macvtap"})", kInvalidNetworkConfig,
       "\"macvtap\" is not bridge, l2bridge or masquerade"},
      {R"({"cniVersion":"1.0.0","name":"x"})", kInvalidNetworkConfig, "binding: is required"},
      {R"({"cniVersion":"1.0.0","name":"../x","binding":"bridge"})", kInvalidNetworkConfig,
       "name:"},
      {Conf(R"(,"vmInterface":"a/b")"), kInvalidNetworkConfig, "vmInterface:"},
      {Conf(R"(,"macAddress":"02:00:00:00:00")"), kInvalidNetworkConfig, "macAddress:"},
      {Conf(R"(,"macAddress":"0200.0000.000")"), kInvalidNetworkConfig, "is not a MAC address"},
      {Conf(R"(,"mtu":20)"), kInvalidNetworkConfig, "mtu: 20"},
      {Conf(R"(,"stateDir":"relative")"), kInvalidNetworkConfig, "stateDir:"},
      {Conf(R"(,"stateDir":"/var/../etc")"), kInvalidNetworkConfig, "stateDir:"},
      {Conf(R"(,"vmNetworkCIDR":"10.0.2.0")"), kInvalidNetworkConfig, "vmNetworkCIDR:"},
      {Conf(R"(,"prevResult":{"interfaces":[],"ips":[{"interface":3}]})"), kInvalidNetworkConfig,
       "prevResult.ips[0].interface: 3 is not an index"},
      {std::string(kMaxConfigBytes + 1, ' '), kDecodingFailure, "more than"},
  };
  for (const auto& c : cases) {
    auto r = ParseConfig(c.text);
    ASSERT_FALSE(r.ok()) << c.text.substr(0, 80);
    EXPECT_EQ(CodeOf(r.status()), c.code) << c.text.substr(0, 80) << ": " << r.status();
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.msg)) << c.text.substr(0, 80);
  }
}

TEST(CniConfigTest, VersionsCompareNumerically) {
  EXPECT_TRUE(VersionAtLeast("0.4.0", "0.3.1"));
  EXPECT_TRUE(VersionAtLeast("1.0.0", "1.0.0"));
  EXPECT_TRUE(VersionAtLeast("0.10.0", "0.4.0"));
  EXPECT_FALSE(VersionAtLeast("0.3.1", "0.4.0"));
  EXPECT_FALSE(VersionAtLeast("1.0.0", "1.1.0"));
}

TEST(CniEnvTest, RequiresWhatTheSpecRequiresPerCommand) {
  EXPECT_TRUE(ReadEnv(Env(AddEnv())).ok());
  auto version = ReadEnv(Env({{"CNI_COMMAND", "VERSION"}}));
  EXPECT_TRUE(version.ok()) << version.status();
  auto del = AddEnv("DEL");
  del.erase("CNI_NETNS");  // DEL after the sandbox is gone
  EXPECT_TRUE(ReadEnv(Env(del)).ok());
  auto args = ReadEnv(Env(AddEnv()));
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->args.at("K8S_POD_NAME"), "vm");

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"CNI_COMMAND", ""},
      {"CNI_COMMAND", "FOO"},
      {"CNI_CONTAINERID", ""},
      {"CNI_CONTAINERID", "../../etc"},
      {"CNI_IFNAME", ""},
      {"CNI_IFNAME", "a/b"},
      {"CNI_IFNAME", "sixteen-chars-xy"},
      {"CNI_NETNS", ""},
      {"CNI_NETNS", "run/netns/p"},
      {"CNI_PATH", ""},
      {"CNI_ARGS", "A=1;junk"},
  };
  for (const auto& [key, value] : bad) {
    auto vars = AddEnv();
    if (value.empty())
      vars.erase(key);
    else
      vars[key] = value;
    auto r = ReadEnv(Env(vars));
    ASSERT_FALSE(r.ok()) << key << "=" << value;
    EXPECT_EQ(CodeOf(r.status()), kInvalidEnvironment) << key << "=" << value;
  }
}

// What an ADD without the pod link in prevResult appends (podInterface): kept as given.
TEST(CniResultTest, AppendsInterfacesAndKeepsIps) {
  auto c = ParseConfig(Conf(absl::StrCat(R"(,"prevResult":)", kPrev)));
  ASSERT_TRUE(c.ok()) << c.status();
  const auto j = json::parse(EncodeAddResult(
      "1.0.0", &*c->prev_result,
      {{"k6t-1", "02:6b:36:00:00:01", "/run/netns/p"}, {"tap1", "", "/run/netns/p"}}));
  EXPECT_EQ(j["cniVersion"], "1.0.0");
  ASSERT_EQ(j["interfaces"].size(), 5u);
  EXPECT_EQ(j["interfaces"][3],
            json({{"name", "k6t-1"}, {"mac", "02:6b:36:00:00:01"}, {"sandbox", "/run/netns/p"}}));
  EXPECT_EQ(j["interfaces"][4], json({{"name", "tap1"}, {"sandbox", "/run/netns/p"}}));
  EXPECT_EQ(j["ips"], json::parse(kPrev)["ips"]);
  EXPECT_EQ(j["routes"], json::parse(kPrev)["routes"]);
}

TEST(CniResultTest, ConvertsIpsBetweenVersions) {
  PrevResult prev;
  prev.raw = json::parse(R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24"},
                                                         {"address":"fd00::2/64"}]})");
  const auto old = json::parse(EncodeAddResult("0.4.0", &prev, {}));
  EXPECT_EQ(old["cniVersion"], "0.4.0");
  EXPECT_EQ(old["ips"][0]["version"], "4");
  EXPECT_EQ(old["ips"][1]["version"], "6");
  prev.raw = old;
  const auto now = json::parse(EncodeAddResult("1.0.0", &prev, {}));
  EXPECT_FALSE(now["ips"][0].contains("version"));
}

TEST(CniResultTest, VersionListsEverySupportedVersion) {
  const auto j = json::parse(EncodeVersion("0.4.0"));
  EXPECT_EQ(j["cniVersion"], "0.4.0");
  EXPECT_THAT(j["supportedVersions"].get<std::vector<std::string>>(),
              ElementsAre("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"));
  EXPECT_EQ(json::parse(EncodeVersion("9.9.9"))["cniVersion"], "1.1.0");
}

TEST(CniErrorTest, EncodesCodeMessageAndDetails) {
  const auto j = json::parse(EncodeError("1.0.0", Error(kDrift, "tap is gone", "tap1 is missing")));
  EXPECT_EQ(j, json({{"cniVersion", "1.0.0"},
                     {"code", 101},
                     {"msg", "tap is gone"},
                     {"details", "tap1 is missing"}}));
  EXPECT_EQ(CodeOf(absl::InvalidArgumentError("x")), kInvalidNetworkConfig);
  EXPECT_EQ(CodeOf(absl::InternalError("x")), kPlumbingFailed);
  // Invalid UTF-8 from the input cannot break the JSON.
  const auto bad = json::parse(EncodeError("1.0.0", Error(7, "name \xff")), nullptr, false);
  EXPECT_TRUE(bad.is_object());
}

TEST(CniRequestTest, SynthesizesOneInterfaceOnTheCniLink) {
  auto c =
      ParseConfig(Conf(absl::StrCat(R"(,"vmInterface":"blue","mtu":1400,"prevResult":)", kPrev)));
  ASSERT_TRUE(c.ok());
  auto env = ReadEnv(Env(AddEnv()));
  ASSERT_TRUE(env.ok());
  auto req = BuildRequest(*c, *env);
  ASSERT_TRUE(req.ok()) << req.status();
  ASSERT_EQ(req->vmi.spec.domain.interfaces.size(), 1u);
  EXPECT_EQ(req->vmi.spec.domain.interfaces[0].name, "blue");
  EXPECT_EQ(req->vmi.spec.domain.interfaces[0].mtu, 1400);
  ASSERT_EQ(req->vmi.spec.networks.size(), 1u);
  EXPECT_EQ(req->vmi.spec.networks[0].pod_interface, "net1");
  EXPECT_TRUE(req->vmi.spec.networks[0].multus);
  EXPECT_EQ(req->vmi.meta.name, "vm");
  EXPECT_EQ(req->state_dir, "/var/lib/cni/k6t/blue-net/c0ffee/net1");
  ASSERT_EQ(req->network_status.size(), 1u);
  EXPECT_EQ(req->network_status[0].interface, "net1");
  EXPECT_THAT(req->network_status[0].ips, ElementsAre("192.168.100.5"));

  auto m = ParseConfig(R"({"cniVersion":"1.0.0","name":"pod","binding":"masquerade"})");
  ASSERT_TRUE(m.ok());
  auto mreq = BuildRequest(*m, *env);
  ASSERT_TRUE(mreq.ok());
  EXPECT_TRUE(mreq->vmi.spec.networks[0].pod);
  EXPECT_TRUE(mreq->network_status[0].is_default);

  auto long_env = AddEnv();
  long_env["CNI_IFNAME"] = "averylongname1";  // k6t-averylongname1 does not fit
  auto e2 = ReadEnv(Env(long_env));
  ASSERT_TRUE(e2.ok());
  auto r2 = BuildRequest(*c, *e2);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(CodeOf(r2.status()), kInvalidEnvironment);
}

TEST(CniRequestTest, OwnAttachmentNamesItsPodLink) {
  // KubeVirt attaches a binding plugin's NAD with cni-args {logicNetworkName: <network>}.
  auto c = ParseConfig(
      R"({"cniVersion":"1.0.0","name":"k6t-masquerade","binding":"masquerade",
          "podInterface":"eth0","args":{"cni":{"logicNetworkName":"default"}}})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->vm_interface, "default");
  auto env = ReadEnv(Env(AddEnv()));
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(PodLink(*c, *env), "eth0");
  auto req = BuildRequest(*c, *env);
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(req->vmi.spec.networks[0].pod_interface, "eth0");
  EXPECT_EQ(req->network_status[0].interface, "eth0");
  EXPECT_EQ(req->state_dir, "/var/lib/cni/k6t/k6t-masquerade/c0ffee/net1");  // network, attachment
  auto bad = ParseConfig(R"({"cniVersion":"1.0.0","name":"x","binding":"bridge",
                             "podInterface":"a/b"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(CodeOf(bad.status()), kInvalidNetworkConfig);
}

TEST(CniPluginTest, VersionNeedsNothingElse) {
  auto o = RunPlugin(Env({{"CNI_COMMAND", "VERSION"}}), R"({"cniVersion":"1.0.0"})");
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(json::parse(o.output)["cniVersion"], "1.0.0");
}

TEST(CniPluginTest, RefusesWithTheSpecErrorJson) {
  auto bad_env = RunPlugin(Env({{"CNI_COMMAND", "ADD"}}), Conf(""));
  EXPECT_EQ(ErrorJson(bad_env)["code"], kInvalidEnvironment);
  auto garbage = RunPlugin(Env(AddEnv()), "{\"cniVersion\":");
  EXPECT_EQ(ErrorJson(garbage)["code"], kDecodingFailure);
  auto unchained = RunPlugin(Env(AddEnv()), Conf(""));
  const auto j = ErrorJson(unchained);
  EXPECT_EQ(j["code"], kInvalidNetworkConfig);
  EXPECT_THAT(j["msg"].get<std::string>(), HasSubstr("no prevResult"));
  auto other_if = AddEnv();
  other_if["CNI_IFNAME"] = "net2";
  auto missing = RunPlugin(Env(other_if), Conf(absl::StrCat(R"(,"prevResult":)", kPrev)));
  const auto m = ErrorJson(missing);
  EXPECT_EQ(m["code"], kInvalidNetworkConfig);
  EXPECT_THAT(m["msg"].get<std::string>(), HasSubstr("no interface net2"));
  EXPECT_THAT(m["details"].get<std::string>(), HasSubstr("net1 (sandbox)"));
  // CHECK exists from 0.4.0, STATUS and GC from 1.1.0.
  auto check = RunPlugin(Env(AddEnv("CHECK")), Conf("", "0.3.1"));
  EXPECT_EQ(ErrorJson(check)["code"], kIncompatibleVersion);
  EXPECT_EQ(ErrorJson(check)["cniVersion"], "0.3.1");
  auto status = RunPlugin(Env({{"CNI_COMMAND", "STATUS"}, {"CNI_PATH", "/x"}}), Conf(""));
  EXPECT_EQ(ErrorJson(status)["code"], kIncompatibleVersion);
}

TEST(CniPluginTest, DelOfAVanishedSandboxRemovesItsState) {
  const std::string root = ::testing::TempDir() + "/k6t-cni-del-" + std::to_string(::getpid());
  const std::string dir = root + "/blue-net/c0ffee/net1/interfaces";
  std::filesystem::create_directories(dir);
  { std::ofstream(dir + "/blue.json") << "{}"; }
  auto env = AddEnv("DEL");
  env["CNI_NETNS"] = "/run/netns/k6t-cni-unit-no-such-netns";
  const std::string conf = Conf(absl::StrCat(R"(,"stateDir":")", root, R"(")"));
  for (int i = 0; i < 2; ++i) {
    auto o = RunPlugin(Env(env), conf);
    EXPECT_EQ(o.exit_code, 0) << o.output;
    EXPECT_EQ(o.output, "");
  }
  EXPECT_FALSE(std::filesystem::exists(root + "/blue-net"));
  std::filesystem::remove_all(root);
}

// Attachment state dirs with an interfaces/ subdirectory, as ADD leaves them.
void MakeAttachments(const std::string& root, std::initializer_list<const char*> attachments) {
  for (const char* a : attachments) std::filesystem::create_directories(root + a + "/interfaces");
}

std::string GcConf(const std::string& root, const std::string& network,
                   const std::string& attachments) {
  return absl::StrCat(R"({"cniVersion":"1.1.0","name":")", network,
                      R"(","binding":"bridge","stateDir":")", root, R"(",)", attachments, "}");
}

TEST(CniPluginTest, GcKeepsOnlyValidAttachmentsOfItsOwnNetwork) {
  const std::string root = ::testing::TempDir() + "/k6t-cni-gc-" + std::to_string(::getpid());
  MakeAttachments(root, {"/blue-net/keep/net1", "/blue-net/gone/net1", "/blue-net/keep/net2",
                         "/red-net/gone/net1", "/red-net/keep/net2"});
  const auto gc = Env({{"CNI_COMMAND", "GC"}, {"CNI_PATH", "/usr/lib/cni"}});
  auto o = RunPlugin(
      gc, GcConf(root, "blue-net",
                 R"("cni.dev/valid-attachments":[{"containerID":"keep","ifname":"net1"}])"));
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_TRUE(std::filesystem::exists(root + "/blue-net/keep/net1/interfaces"));
  EXPECT_FALSE(std::filesystem::exists(root + "/blue-net/keep/net2"));
  EXPECT_FALSE(std::filesystem::exists(root + "/blue-net/gone"));
  // red-net's live attachments are not blue-net's to judge, gone or not.
  EXPECT_TRUE(std::filesystem::exists(root + "/red-net/gone/net1/interfaces"));
  EXPECT_TRUE(std::filesystem::exists(root + "/red-net/keep/net2/interfaces"));

  // The older key means the same; an empty list on red-net leaves nothing of it.
  o = RunPlugin(gc, GcConf(root, "red-net",
                           R"("cni.dev/attachments":[{"containerID":"keep","ifname":"net2"}])"));
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_TRUE(std::filesystem::exists(root + "/red-net/keep/net2/interfaces"));
  EXPECT_FALSE(std::filesystem::exists(root + "/red-net/gone"));
  o = RunPlugin(gc, GcConf(root, "red-net", R"("cni.dev/valid-attachments":[])"));
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_FALSE(std::filesystem::exists(root + "/red-net"));
  EXPECT_TRUE(std::filesystem::exists(root + "/blue-net/keep/net1/interfaces"));
  std::filesystem::remove_all(root);
}

// A sandbox on a FakeKernel: the pod link net1 the bridge plugin made (kPrev's MAC and IP),
// a state dir and a netns path that exists (the plugin checks it before entering).
struct FakeSandbox {
  binding::testing::FakeKernel kernel;
  std::string root;
  std::map<std::string, std::string> env = AddEnv();
  std::string conf;
  RequestHook hook = [this](binding::PodNetworkRequest& r) {
    binding::testing::UseFakeKernel(r, kernel);
  };

  FakeSandbox() {
    root = ::testing::TempDir() + "/k6t-cni-fake-" + std::to_string(::getpid());
    std::filesystem::create_directories(root);
    { std::ofstream(root + "/netns"); }
    env["CNI_NETNS"] = root + "/netns";
    binding::Link net1;
    net1.name = "net1";
    net1.kind = "veth";
    net1.mac = "aa:00:00:00:00:03";
    net1.mtu = 1500;
    net1.admin_up = net1.oper_up = true;
    kernel.AddLink(net1);
    kernel.AddPodAddress("net1", "192.168.100.5/24");
    std::string prev = kPrev;
    prev.replace(prev.find("/run/netns/p"), 12, env["CNI_NETNS"]);
    conf = Conf(absl::StrCat(R"(,"stateDir":")", root, R"(/state","prevResult":)", prev));
  }
  ~FakeSandbox() { std::filesystem::remove_all(root); }

  Outcome Run(const std::string& command) {
    auto e = env;
    e["CNI_COMMAND"] = command;
    return RunPlugin(Env(e), conf, hook);
  }
  std::optional<binding::Link> Link(const std::string& name) {
    auto l = kernel.GetLink(name);
    EXPECT_TRUE(l.ok()) << l.status();
    return l.ok() ? *l : std::nullopt;
  }
};

// The result is the chain's: the runtime sees one sandbox interface for the attachment
// (podman re-ADDs on it at `network reload`; Multus names it in network-status), with the MAC
// the kernel shows under that name. k6t's bridge and tap are not the attachment's interfaces.
TEST(CniPluginTest, AddResultIsTheChainsWithThePodLinksMac) {
  FakeSandbox sb;
  auto o = sb.Run("ADD");
  ASSERT_EQ(o.exit_code, 0) << o.output;
  const json r = json::parse(o.output);
  std::vector<std::string> names;
  for (const auto& i : r["interfaces"]) {
    names.push_back(i["name"]);
    ASSERT_TRUE(i.contains("mac")) << i.dump();
  }
  EXPECT_THAT(names, ElementsAre("br-blue", "veth1", "net1"));
  ASSERT_TRUE(sb.Link("tap1")) << "the tap exists, it is just not the attachment's interface";
  // Under the pod link's name the kernel shows the MAC the result names.
  EXPECT_EQ(absl::AsciiStrToLower(r["interfaces"][2]["mac"].get<std::string>()),
            sb.Link("net1")->mac);
  EXPECT_EQ(r["interfaces"][2]["sandbox"], sb.env["CNI_NETNS"]);
  EXPECT_EQ(r["ips"][0]["interface"], 2);  // still the pod link
  EXPECT_EQ(sb.Run("CHECK").exit_code, 0);
}

TEST(CniPluginTest, MissingPodLinkIsTryAgainLater) {
  FakeSandbox sb;
  ASSERT_TRUE(sb.kernel.DeleteLink("net1").ok());
  const std::string before = sb.kernel.Dump();
  auto o = sb.Run("ADD");
  const auto j = ErrorJson(o);
  EXPECT_EQ(j["code"], kTryAgainLater);
  EXPECT_THAT(j["msg"].get<std::string>(), HasSubstr("net1 is not there yet"));
  EXPECT_EQ(sb.kernel.Dump(), before);
}

TEST(CniPluginTest, DelWithoutStateRemovesTheDerivedLinksIdempotently) {
  FakeSandbox sb;
  ASSERT_EQ(sb.Run("ADD").exit_code, 0);
  ASSERT_TRUE(sb.Link("net1-nic"));
  std::filesystem::remove_all(sb.root + "/state");  // lost, or an older layout's
  for (int i = 0; i < 2; ++i) {
    auto o = sb.Run("DEL");
    EXPECT_EQ(o.exit_code, 0) << o.output;
    EXPECT_FALSE(sb.Link("tap1"));
    EXPECT_FALSE(sb.Link("k6t-net1"));
    EXPECT_FALSE(sb.Link("net1-nic"));
    auto pod = sb.Link("net1");
    ASSERT_TRUE(pod);
    EXPECT_EQ(pod->kind, "veth");  // the pod link itself, renamed back
    EXPECT_EQ(pod->mac, "aa:00:00:00:00:03");
    EXPECT_EQ(pod->master_index, 0);
  }
  // A fresh ADD on the returned link works (podman network reload: DEL then ADD).
  EXPECT_EQ(sb.Run("ADD").exit_code, 0);
  EXPECT_EQ(sb.Run("DEL").exit_code, 0);
  EXPECT_FALSE(sb.Link("tap1"));
  EXPECT_FALSE(sb.Link("net1-nic"));
}

TEST(CniPluginTest, DelWithoutStateLeavesOtherLinksAlone) {
  FakeSandbox sb;
  // Links that happen to carry k6t's names but are not of k6t's kinds.
  binding::Link imposter;
  imposter.name = "k6t-net1";
  imposter.kind = "veth";
  sb.kernel.AddLink(imposter);
  const std::string before = sb.kernel.Dump();
  auto o = sb.Run("DEL");
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_EQ(sb.kernel.Dump(), before);
}

}  // namespace
}  // namespace k6t::handler::cni
