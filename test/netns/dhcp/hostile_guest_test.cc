// A guest that sends 100 000 garbage, truncated, oversized and option-looping DHCPv4,
// DHCPv6 and router-solicitation packets: the server stays up, its memory stays flat, and a
// real client still gets its lease afterwards.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <random>

#include "frames.h"
#include "k6t/dhcp/dhcpv4_packet.h"
#include "k6t/dhcp/dhcpv6_packet.h"
#include "spdlog/spdlog.h"
#include "test/netns/dhcp/pod_fixture.h"

namespace k6t::dhcp::testing {
namespace {

long RssKiB() {
  std::string s = ReadFile("/proc/self/status");
  const size_t p = s.find("VmRSS:");
  return p == std::string::npos ? -1 : std::stol(s.substr(p + 6));
}

using Bytes = std::vector<uint8_t>;

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  size_t Uniform(size_t lo, size_t hi) {
    return std::uniform_int_distribution<size_t>(lo, hi)(rng_);
  }
  Bytes Random(size_t max) {
    Bytes b(Uniform(0, max));
    for (auto& x : b) x = static_cast<uint8_t>(rng_());
    return b;
  }

  Bytes Discover(bool random_mac) {
    Dhcpv4Message m;
    m.xid = static_cast<uint32_t>(rng_());
    m.chaddr = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
    if (random_mac)
      for (int i = 1; i < 6; ++i) m.chaddr[i] = static_cast<uint8_t>(rng_());
    m.options = {{opt4::kMessageType, "\x01"}, {opt4::kParamRequest, "\x01\x03\x06\x79"}};
    return EncodeDhcpv4(m)->bytes;
  }

  Bytes V4() {
    switch (Uniform(0, 5)) {
      case 0:
        return Random(700);
      case 1: {  // truncated
        Bytes b = Discover(false);
        b.resize(Uniform(0, b.size() - 1));
        return b;
      }
      case 2:
        return Discover(true);  // a new client per packet
      case 3:
        return Discover(false);  // one client hammering
      case 4: {  // option overloading pointing into fields that overload again / overrun
        Bytes b = Discover(false);
        b.resize(240);
        const uint8_t opts[] = {52, 1, 3, 53, 1, 1, 255};
        b.insert(b.end(), opts, opts + sizeof(opts));
        b[108] = 52;
        b[109] = 1;
        b[110] = 3;  // file: overload again
        b[111] = 12;
        b[112] = 250;  // then an option running past the field
        b[44] = 119;
        b[45] = 60;  // sname: domain search of pointers
        for (int i = 46; i < 106; i += 2) {
          b[i] = 0xc0;
          b[i + 1] = 0;
        }
        return b;
      }
      default: {  // a chain of maximal options running past the packet
        Bytes b = Discover(false);
        b.resize(240);
        for (int i = 0; i < 40; ++i) {
          b.push_back(static_cast<uint8_t>(Uniform(1, 254)));
          b.push_back(255);
        }
        return b;
      }
    }
  }

  Bytes V6() {
    switch (Uniform(0, 4)) {
      case 0:
        return Random(700);
      case 1: {  // options that claim more than there is, nested IA that lies
        Bytes b = {1, 0, 0, 1, 0, 3, 0xff, 0xff, 0, 0, 0, 1};
        return b;
      }
      case 2: {  // more options than allowed
        Bytes b = {1, 0, 0, 2};
        for (int i = 0; i < 200; ++i) {
          const uint8_t o[] = {0, 8, 0, 2, 0, 0};
          b.insert(b.end(), o, o + 6);
        }
        return b;
      }
      case 3: {  // a valid Solicit from a random DUID, IA_NA with broken IAADDR
        Dhcpv6Message m;
        m.type = Dhcpv6Type::kSolicit;
        m.xid = static_cast<uint32_t>(rng_()) & 0xffffff;
        Mac mac{2, 0, 0, 0, 0, 0};
        for (int i = 1; i < 6; ++i) mac[i] = static_cast<uint8_t>(rng_());
        m.options = {{opt6::kClientId, DuidLl(mac)},
                     {opt6::kIaNa, std::string("\0\0\0\1\0\0\0\0\0\0\0\0\0\5\0\x40", 16)}};
        return EncodeDhcpv6(m);
      }
      default: {  // truncated valid Solicit
        Dhcpv6Message m;
        m.type = Dhcpv6Type::kSolicit;
        m.options = {{opt6::kClientId, DuidLl({2, 0x11, 0x22, 0x33, 0x44, 0x55})},
                     {opt6::kIaNa, std::string(12, '\0')}};
        Bytes b = EncodeDhcpv6(m);
        b.resize(Uniform(0, b.size() - 1));
        return b;
      }
    }
  }

  Bytes Rs() {
    Bytes b = {133, 0, 0, 0, 0, 0, 0, 0};
    switch (Uniform(0, 3)) {
      case 0: {  // zero-length option: the classic infinite loop
        const uint8_t o[] = {1, 0, 2, 0, 0, 0, 0, 0};
        b.insert(b.end(), o, o + 8);
        return b;
      }
      case 1: {  // option running past the end
        const uint8_t o[] = {1, 200, 2, 0};
        b.insert(b.end(), o, o + 4);
        return b;
      }
      case 2: {  // hundreds of options
        for (int i = 0; i < 100; ++i) {
          const uint8_t o[] = {9, 1, 0, 0, 0, 0, 0, 0};
          b.insert(b.end(), o, o + 8);
        }
        return b;
      }
      default: {
        Bytes r = Random(300);
        b.insert(b.end(), r.begin(), r.end());
        return b;
      }
    }
  }

 private:
  std::mt19937 rng_;
};

struct Sent {
  size_t v4 = 0, v6 = 0, rs = 0, oversized = 0, errors = 0;
};

absl::StatusOr<Sent> Flood(int ifindex, size_t total) {
  Generator gen(4242);
  Sent sent;
  const int pkt = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
  const int udp4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int udp6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int icmp6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
  if (pkt < 0 || udp4 < 0 || udp6 < 0 || icmp6 < 0)
    return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  setsockopt(udp4, SOL_SOCKET, SO_BINDTODEVICE, "eth0", 5);
  setsockopt(udp6, SOL_SOCKET, SO_BINDTODEVICE, "eth0", 5);
  setsockopt(icmp6, SOL_SOCKET, SO_BINDTODEVICE, "eth0", 5);
  const int hops255 = 255, hops1 = 1;
  sockaddr_ll ll{};
  ll.sll_family = AF_PACKET;
  ll.sll_protocol = htons(ETH_P_IP);
  ll.sll_ifindex = ifindex;
  ll.sll_halen = 6;
  std::memset(ll.sll_addr, 0xff, 6);
  sockaddr_in gw4{};
  gw4.sin_family = AF_INET;
  gw4.sin_port = htons(67);
  inet_pton(AF_INET, "10.0.2.1", &gw4.sin_addr);
  sockaddr_in6 servers{};
  servers.sin6_family = AF_INET6;
  servers.sin6_port = htons(547);
  servers.sin6_scope_id = static_cast<uint32_t>(ifindex);
  inet_pton(AF_INET6, "ff02::1:2", &servers.sin6_addr);
  sockaddr_in6 routers{};
  routers.sin6_family = AF_INET6;
  routers.sin6_scope_id = static_cast<uint32_t>(ifindex);
  inet_pton(AF_INET6, "ff02::2", &routers.sin6_addr);
  const Bytes huge(60000, 0x35);  // fragmented on the wire, reassembled by the pod kernel

  for (size_t i = 0; i < total; ++i) {
    ssize_t rc = 0;
    const size_t kind = i % 10;
    if (i % 500 == 0) {  // oversized, alternating v4/v6
      rc = (i / 500) % 2 ? sendto(udp4, huge.data(), huge.size(), 0,
                                  reinterpret_cast<sockaddr*>(&gw4), sizeof(gw4))
                         : sendto(udp6, huge.data(), huge.size(), 0,
                                  reinterpret_cast<sockaddr*>(&servers), sizeof(servers));
      ++sent.oversized;
    } else if (kind < 4) {
      Bytes payload = gen.V4();
      Bytes frame = internal::BuildUdp4({0, 0, 0, 0}, {255, 255, 255, 255}, 68, 67, payload);
      rc = sendto(pkt, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&ll), sizeof(ll));
      ++sent.v4;
    } else if (kind < 7) {
      Bytes b = gen.V6();
      rc = sendto(udp6, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&servers),
                  sizeof(servers));
      ++sent.v6;
    } else {
      Bytes b = gen.Rs();
      setsockopt(icmp6, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, i % 7 ? &hops255 : &hops1, sizeof(int));
      rc = sendto(icmp6, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&routers),
                  sizeof(routers));
      ++sent.rs;
    }
    if (rc < 0) ++sent.errors;
  }
  close(pkt);
  close(udp4);
  close(udp6);
  close(icmp6);
  return sent;
}

class HostileGuest : public PodFixture {};

TEST_F(HostileGuest, HundredThousandBadPacketsLeaveTheServerServing) {
  spdlog::set_level(spdlog::level::info);
  StartServer({MasqueradePlan()});
  ASSERT_EQ(Udhcpc()["ip"], "10.0.2.2") << last_client_output_;  // warm: every path allocated
  // The oversized IPv4 datagrams go to the gateway by unicast: the guest needs an address.
  ASSERT_EQ(Sh("ip -n " + guest_ + " addr add 10.0.2.77/24 dev eth0").rc, 0);
  const long rss_before = RssKiB();

  auto guest = NetnsThread::Enter("/run/netns/" + guest_);
  ASSERT_TRUE(guest.ok()) << guest.status();
  auto sent = (*guest)->Call<Sent>([]() -> absl::StatusOr<Sent> {
    return Flood(static_cast<int>(if_nametoindex("eth0")), 100'000);
  });
  ASSERT_TRUE(sent.ok()) << sent.status();
  // Wait until the server has read what the kernel queued.
  uint64_t last = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = server_->Stats("k6t-eth0");
        if (!s) return false;
        const bool settled = s->received == last;
        last = s->received;
        if (!settled) std::this_thread::sleep_for(std::chrono::milliseconds(400));
        return settled;
      },
      std::chrono::seconds(120)));
  const long rss_after = RssKiB();
  auto stats = server_->Stats("k6t-eth0");
  ASSERT_TRUE(stats.has_value()) << "the bridge is no longer served";
  spdlog::info(
      "hostile guest: sent v4={} v6={} rs={} oversized={} send_errors={}; server received={} "
      "replied={} malformed={} ignored={} rate_limited={} send_errors={}; RSS {} -> {} KiB",
      sent->v4, sent->v6, sent->rs, sent->oversized, sent->errors, stats->received, stats->replied,
      stats->malformed, stats->ignored, stats->rate_limited, stats->send_errors, rss_before,
      rss_after);
  EXPECT_EQ(sent->v4 + sent->v6 + sent->rs + sent->oversized, 100'000u);
  // Most packets reached the server (socket buffers may drop some under the flood).
  EXPECT_GT(stats->received, 50'000u);
  EXPECT_GT(stats->malformed, 10'000u);
  EXPECT_GT(stats->rate_limited, 1'000u);  // the hammering client and the forged MACs
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer keeps freed memory in its quarantine (up to 256 MiB) by design, so RSS
  // says nothing about the server here; the plain build of this test checks the bound.
  std::printf("[ NOTE ] ASan build: the RSS bound is checked by the non-sanitizer run\n");
#else
  EXPECT_LT(rss_after - rss_before, 4 * 1024) << "RSS grew from " << rss_before << " KiB";
#endif

  ASSERT_EQ(Sh("ip -n " + guest_ + " addr flush dev eth0 scope global").rc, 0);
  // Past the rate limit window of the guest's MAC, a real client still gets its lease.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  auto env = Udhcpc();
  EXPECT_EQ(env["ip"], "10.0.2.2") << last_client_output_;
  EXPECT_EQ(env["router"], "10.0.2.1");
}

}  // namespace
}  // namespace k6t::dhcp::testing
