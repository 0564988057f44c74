// A pod netns with the masquerade bridge k6t-eth0 (02:00:00:00:00:00, 10.0.2.1/24,
// fd10:0:2::1/120) and a guest netns whose eth0 is a veth port of that bridge. The DHCP
// server runs in the pod netns on a NetnsThread; the clients run in the guest with
// `ip netns exec`. Everything is deleted in TearDown, also after a failure.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "k6t/binding/netns.h"
#include "k6t/dhcp/server.h"

namespace k6t::dhcp::testing {

using api::DhcpPlan;
using api::DhcpV4Offer;
using api::DhcpV6Offer;
using api::RouterAdvert;
using binding::NetnsThread;

struct CmdResult {
  int rc = -1;
  std::string out;
};

inline CmdResult Sh(const std::string& cmd) {
  CmdResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// KEY=VALUE lines (what the client scripts dump with `env`/`set`), quotes stripped.
inline std::map<std::string, std::string> ParseEnv(const std::string& text) {
  std::map<std::string, std::string> env;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    std::string v(line.substr(eq + 1));
    if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front())
      v = v.substr(1, v.size() - 2);
    env[std::string(line.substr(0, eq))] = v;
  }
  return env;
}

// Polls `cond` up to `limit` (a generous bound for a slow machine, not an assertion on speed).
template <typename F>
bool WaitFor(F cond, std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return cond();
}

inline constexpr char kGuestMac[] = "02:11:22:33:44:55";

class PodFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    static int counter = 0;
    const std::string base = absl::StrCat("k6t-dhcp-", getpid(), "-", counter++);
    pod_ = base + "-p";
    guest_ = base + "-g";
    dir_ = absl::StrCat("/tmp/", base);
    std::filesystem::create_directories(dir_);
    const std::string P = "ip -n " + pod_ + " ";
    const std::string G = "ip -n " + guest_ + " ";
    for (const std::string& cmd : {
             "ip netns add " + pod_,
             "ip netns add " + guest_,
             // No DAD: the link-local addresses are usable at once.
             "ip netns exec " + pod_ + " sysctl -qw net.ipv6.conf.default.accept_dad=0",
             "ip netns exec " + guest_ + " sysctl -qw net.ipv6.conf.default.accept_dad=0",
             "ip netns exec " + guest_ + " sysctl -qw net.ipv6.conf.all.forwarding=0",
             P + "link set lo up",
             G + "link set lo up",
             P + "link add k6t-eth0 type bridge",
             P + "link set k6t-eth0 address 02:00:00:00:00:00",
             P + "addr add 10.0.2.1/24 dev k6t-eth0",
             P + "addr add fd10:0:2::1/120 dev k6t-eth0 nodad",
             P + "link add vport0 type veth peer name eth0 netns " + guest_,
             P + "link set vport0 master k6t-eth0",
             P + "link set vport0 up",
             P + "link set k6t-eth0 up",
             G + "link set eth0 address " + kGuestMac,
             "ip netns exec " + guest_ + " sysctl -qw net.ipv6.conf.eth0.accept_ra=1",
             G + "link set eth0 up",
         }) {
      CmdResult r = Sh(cmd);
      ASSERT_EQ(r.rc, 0) << cmd << ": " << r.out;
    }
    auto t = NetnsThread::Enter("/run/netns/" + pod_);
    ASSERT_TRUE(t.ok()) << t.status();
    pod_thread_ = std::move(*t);
    // The bridge's link-local address is the RA source; it exists once the port is up.
    ASSERT_TRUE(WaitFor([&] {
      return Sh(P + "-6 addr show dev k6t-eth0 scope link").out.find("fe80::ff:fe00:0") !=
             std::string::npos;
    })) << Sh(P + "-6 addr").out;
  }

  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    pod_thread_.reset();
    for (const std::string& ns : {guest_, pod_}) {
      if (ns.empty()) continue;
      // Clients the test started (dhclient daemonises) live only in these namespaces.
      CmdResult pids = Sh("ip netns pids " + ns);
      for (absl::string_view pid : absl::StrSplit(pids.out, '\n', absl::SkipEmpty()))
        kill(std::stoi(std::string(pid)), SIGKILL);
      Sh("ip netns del " + ns);
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Starts the server in the pod netns with the given plans.
  void StartServer(const std::vector<DhcpPlan>& plans, ServerOptions opts = {}) {
    server_ = std::make_unique<Server>(opts);
    for (const auto& p : plans) ASSERT_TRUE(server_->AddInterface(p).ok());
    absl::Status st = pod_thread_->Run([&] { return server_->Start(); });
    ASSERT_TRUE(st.ok()) << st;
  }

  std::string InGuest(const std::string& cmd) { return "ip netns exec " + guest_ + " " + cmd; }

  // busybox udhcpc, once, with a script that dumps what it got. Returns the env of the
  // "bound" event (empty when no lease).
  std::map<std::string, std::string> Udhcpc(const std::string& extra = "") {
    const std::string script = dir_ + "/udhcpc.sh";
    const std::string out = dir_ + "/udhcpc.env";
    std::filesystem::remove(out);
    {
      std::ofstream f(script);
      f << "#!/bin/sh\n[ \"$1\" = bound ] && env > " << out << "\nexit 0\n";
    }
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
    CmdResult r = Sh(InGuest("busybox udhcpc -i eth0 -f -q -n -t 4 -T 2 -s " + script +
                             " -O staticroutes -O search -O mtu -O ntpsrv -O tftp -O bootfile "
                             "-O domain -O hostname -O 240 " +
                             extra));
    last_client_output_ = r.out;
    return ParseEnv(ReadFile(out));
  }

  // ISC dhclient -4, once, with `conf` (dhclient.conf statements; the options requested
  // below are always in it). Returns the env of the BOUND/REBOOT event (empty: no lease);
  // the client's own output is in last_client_output_.
  std::map<std::string, std::string> Dhclient(const std::string& conf = "") {
    const std::string conf_file = dir_ + "/dhclient.conf";
    const std::string script = dir_ + "/dhclient.sh";
    const std::string env_file = dir_ + "/dhclient.env";
    std::filesystem::remove(env_file);
    std::filesystem::remove(dir_ + "/dhclient.leases");
    {
      std::ofstream f(conf_file);
      f << "option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;\n"
           "option k6t-private code 240 = string;\n"
           "timeout 20;\n"
           "request subnet-mask, routers, domain-name, domain-name-servers, host-name,\n"
           "  domain-search, interface-mtu, rfc3442-classless-static-routes, ntp-servers,\n"
           "  tftp-server-name, bootfile-name, k6t-private;\n"
        << conf;
      std::ofstream s(script);
      s << "#!/bin/sh\ncase \"$reason\" in BOUND|REBOOT) set > " << env_file << ";; esac\nexit 0\n";
    }
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
    CmdResult r = Sh(InGuest("dhclient -4 -1 -v -cf " + conf_file + " -sf " + script + " -lf " +
                             dir_ + "/dhclient.leases -pf " + dir_ + "/dhclient.pid eth0"));
    last_client_output_ = r.out;
    // dhclient -1 stays in the background once bound; the next run must start afresh.
    Sh(InGuest("dhclient -4 -x -pf " + dir_ + "/dhclient.pid eth0"));
    return ParseEnv(ReadFile(env_file));
  }

  ::testing::AssertionResult GuestHas(const std::string& cmd, const std::string& needle) {
    CmdResult r = Sh(InGuest(cmd));
    if (r.out.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "`" << cmd << "` lacks \"" << needle << "\":\n"
                                         << r.out;
  }

  std::string pod_, guest_, dir_;
  std::unique_ptr<NetnsThread> pod_thread_;
  std::unique_ptr<Server> server_;
  std::string last_client_output_;
};

// What k6t's masquerade binding plans for the primary network (plus one extra route so
// option 121 is exercised), with every VMI dhcpOption.
inline DhcpPlan MasqueradePlan() {
  DhcpPlan p;
  p.bridge = "k6t-eth0";
  DhcpV4Offer v4;
  v4.server_ip = "10.0.2.1";
  v4.client_ip = "10.0.2.2";
  v4.prefix_len = 24;
  v4.router = "10.0.2.1";
  v4.routes = {{"10.96.0.0/12", "10.0.2.1"}};
  v4.mtu = 1400;
  v4.dns_servers = {"10.96.0.10", "10.96.0.11"};
  v4.search_domains = {"default.svc.cluster.local", "svc.cluster.local", "cluster.local"};
  v4.hostname = "vm1";
  v4.tftp_server_name = "tftp.example.com";
  v4.boot_file_name = "pxelinux.0";
  v4.ntp_servers = {"10.0.0.123"};
  v4.private_options = {{240, "k6t-private"}};
  p.v4 = v4;
  DhcpV6Offer v6;
  v6.client_ip = "fd10:0:2::2";
  v6.prefix_len = 120;
  v6.dns_servers = {"fd00:10:96::a"};
  v6.search_domains = v4.search_domains;
  p.v6 = v6;
  p.ra = RouterAdvert{"fd10:0:2::1", "fd10:0:2::/120", 1400, true, true};
  return p;
}

}  // namespace k6t::dhcp::testing
