// The in-pod DHCPv4, DHCPv6 and router-advertisement servers of every k6t bridge of a VM:
// one epoll loop on one thread, sockets bound to each bridge, bounded buffers, per-client
// rate limits. What is offered comes from an api::DhcpPlan (k6t/api/dhcp_offer.h); the
// decisions are in responder.h.
//
//   dhcp::Server server;
//   for (const auto& p : plans) if (p.dhcp) (void)server.AddInterface(*p.dhcp);
//   RETURN_IF_ERROR(server.Start());   // or server.Run() to block the calling thread
//   for (const auto& s : server.Statuses()) ...   // what is served, what failed and why
//   ...                                // AddInterface/RemoveInterface for hotplug
//   server.Stop();
//
// Independence: each interface, and each of its DHCPv4, DHCPv6 and RA parts, is served on
// its own. An invalid offer or a socket that cannot be opened (the bridge missing, the port
// taken, no permission) fails that part only: it is reported in its InterfaceStatus and
// logged, the other parts and interfaces are served, and sockets that failed are retried
// every `retry_interval` while the plan is kept.
//
// Namespaces: sockets are opened by the loop thread, so they live in the network namespace
// of the thread that calls Run(), or of the thread that calls Start() (a new thread inherits
// it). Call Start() from inside the pod netns (the launcher runs there; tests call it from a
// NetnsThread).
//
// Replies:
//  - DHCPv4 replies are sent on an AF_PACKET socket bound to the bridge, to chaddr (or the
//    Ethernet broadcast), with the IPv4/UDP headers built here. That implements RFC 2131
//    §4.1 exactly (unicast to yiaddr at chaddr for a client without an address) without ARP
//    entries or routes, and works for bridge binding, whose bridge has no subnet address.
//    Requests arrive on a UDP socket bound to 0.0.0.0:67 with SO_BINDTODEVICE. A reply is
//    as large as the client allows (option 57) within the bridge's MTU; what does not fit
//    is left out in the order of dhcpv4_options.h, with one warning per interface.
//  - DHCPv6 replies go to the client's link-local source on [::]:547 bound to the bridge,
//    which has joined ff02::1:2.
//  - RAs go from the bridge's link-local address (kernel source selection), hop limit 255:
//    a few fast initial ones, then every `ra_interval`, and a unicast answer to each router
//    solicitation (multicast when the solicitor has no address).
// Needs CAP_NET_BIND_SERVICE (ports 67/547) and CAP_NET_RAW (packet and ICMPv6 sockets).
// Errors: socket and epoll failures name the bridge or call and carry errno's text;
// FailedPrecondition when Run/Start is called on a running server; Cancelled for a hotplug
// request that Stop() overtook. Thread-safety: as each method says.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "k6t/api/dhcp_offer.h"

namespace k6t::dhcp {

struct ServerOptions {
  // Replies per client (MAC for DHCPv4, DUID or source for DHCPv6/RS): sustained and burst.
  double client_rate = 5;
  double client_burst = 20;
  size_t max_clients = 256;  // per interface and protocol; beyond: one shared bucket
  std::chrono::milliseconds ra_interval{200'000};
  int initial_ras = 3;  // sent ra_initial_interval apart after the interface is added
  std::chrono::milliseconds ra_initial_interval{1'000};
  uint16_t ra_router_lifetime = 1800;  // seconds
  int max_packets_per_wakeup = 64;     // per socket, so one busy bridge cannot starve others
  // How often sockets that could not be opened are tried again; 0: never.
  std::chrono::milliseconds retry_interval{5'000};
};

struct InterfaceStats {
  uint64_t received = 0;      // datagrams read, all protocols
  uint64_t replied = 0;       // replies sent (solicited and periodic RAs included)
  uint64_t malformed = 0;     // failed to parse
  uint64_t ignored = 0;       // parsed, no reply by the protocol's rules (or MAC filter)
  uint64_t rate_limited = 0;  // a reply was due but the client's budget was spent
  uint64_t send_errors = 0;
};

// One of an interface's DHCPv4, DHCPv6 and RA parts.
struct PartStatus {
  enum class State { kNotRequested, kServing, kFailed };
  State state = State::kNotRequested;
  absl::Status error;     // kFailed: why (InvalidArgument for an offer, errno text for sockets)
  bool retrying = false;  // kFailed: the sockets are tried again every retry_interval
};

struct InterfaceStatus {
  std::string bridge;
  PartStatus v4, v6, ra;
  // What the offers leave out (Dhcpv4Responder::left_out: at the smallest reply size).
  std::vector<std::string> v4_left_out, v6_left_out;
  InterfaceStats stats;
  // OK when every part the plan asks for is served, else the first part's error, named.
  absl::Status Overall() const;
};

class Server {
 public:
  explicit Server(ServerOptions options = {});
  ~Server();  // Stop()s
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves `plan`, replacing the plan of a bridge already served. When the loop is running
  // its sockets are opened on the loop thread before this returns; otherwise when the loop
  // starts. Returns the plan's InterfaceStatus::Overall() (before Run/Start: whether its
  // offers are valid); whatever it returns, the plan is kept and its other parts served.
  // Only a plan without a bridge or with nothing to serve is refused (InvalidArgument) and
  // not kept. Thread-safe.
  absl::Status AddInterface(const api::DhcpPlan& plan);
  // Closes the bridge's sockets and forgets its plan; NotFound if it has none. Thread-safe.
  absl::Status RemoveInterface(const std::string& bridge);

  // Serves until Stop(). Fails only when already running or when the loop itself cannot be
  // set up (epoll, eventfd, timerfd); interfaces that cannot be served are in Statuses().
  absl::Status Run();
  // Run() on a new thread; returns once every interface has been opened (or with Run's
  // error).
  absl::Status Start();
  // Ends the loop and waits for it (joins the thread Start() made; waits for a Run() on
  // another thread to return). Idempotent; callable from any thread.
  void Stop();

  // While the loop runs: the status of a bridge's plan; nullopt when it has none or the
  // loop is not running. Thread-safe.
  std::optional<InterfaceStatus> Status(const std::string& bridge) const;
  std::vector<InterfaceStatus> Statuses() const;  // every plan, by bridge name
  // Counters of a bridge while the loop runs (Status(bridge)->stats). Thread-safe.
  std::optional<InterfaceStats> Stats(const std::string& bridge) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace k6t::dhcp
