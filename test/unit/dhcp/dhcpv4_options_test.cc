// The DHCPv4 options of an offer and what gives way when a reply cannot hold them all.
#include "k6t/dhcp/dhcpv4_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "k6t/dhcp/dns_name.h"
#include "test/unit/dhcp/hex.h"

namespace k6t::dhcp {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using testing::HexStr;
using ::testing::IsEmpty;

constexpr size_t k576 = kDhcpv4MinMaxMessage - 28;  // the UDP payload of a 576-byte message

// ~60-character search domains, as a long Kubernetes namespace makes them.
std::string LongDomain(int i) {
  return absl::StrCat("ns", i, "-", std::string(36, static_cast<char>('a' + i)),
                      ".svc.cluster.example");
}

std::vector<std::string> SixLongDomains() {
  std::vector<std::string> d;
  for (int i = 0; i < 6; ++i) d.push_back(LongDomain(i));
  return d;
}

api::DhcpV4Offer Offer() {
  api::DhcpV4Offer o;
  o.server_ip = "10.0.2.1";
  o.client_ip = "10.0.2.2";
  o.prefix_len = 24;
  o.router = "10.0.2.1";
  o.mtu = 1400;
  o.dns_servers = {"10.96.0.10"};
  o.hostname = "vm1";
  o.search_domains = SixLongDomains();
  o.ntp_servers = {"10.0.0.123"};
  o.tftp_server_name = "tftp.example.com";
  o.boot_file_name = "pxelinux.0";
  o.private_options = {{240, "k6t-private"}, {241, std::string(100, 'p')}};
  return o;
}

// An OFFER's own options: type, server id, lease, renewal and rebinding times.
Dhcpv4Message OfferHead() {
  Dhcpv4Message m;
  m.op = kBootReply;
  m.options = {{opt4::kMessageType, "\x02"},
               {opt4::kServerId, HexStr("0a 00 02 01")},
               {opt4::kLeaseTime, HexStr("00 01 51 80")},
               {opt4::kRenewalTime, HexStr("00 00 a8 c0")},
               {opt4::kRebindingTime, HexStr("00 01 27 50")}};
  return m;
}

std::vector<std::string> SearchOf(const Dhcpv4Message& m) {
  const std::string* s = m.Find(opt4::kDomainSearch);
  if (s == nullptr) return {};
  auto names = DecodeDomainList(*s);
  EXPECT_TRUE(names.ok()) << names.status();
  return names.ok() ? *names : std::vector<std::string>{};
}

Dhcpv4Options Make(const api::DhcpV4Offer& o) {
  auto r = Dhcpv4Options::FromOffer(o);
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

// What a client reads back from the bytes.
Dhcpv4Message Decode(const Dhcpv4Fit& fit) {
  auto m = DecodeDhcpv4(fit.bytes);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : Dhcpv4Message{};
}

TEST(Dhcpv4Options, EverythingFitsALargeReply) {
  auto fit = Make(Offer()).Fit(OfferHead(), 1400 - 28);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_THAT(fit->left_out, IsEmpty());
  EXPECT_LE(fit->bytes.size(), 1400u - 28);
  const Dhcpv4Message m = Decode(*fit);
  // 372 bytes of search list: two instances of option 119, joined by the decoder.
  EXPECT_THAT(SearchOf(m), ElementsAreArray(SixLongDomains()));
  EXPECT_EQ(*m.Find(opt4::kDomainName), LongDomain(0));
  EXPECT_EQ(*m.Find(241), std::string(100, 'p'));
}

TEST(Dhcpv4Options, A576ByteReplyLeavesOutTheTailOfTheSearchListFirst) {
  auto fit = Make(Offer()).Fit(OfferHead(), k576);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_LE(fit->bytes.size(), k576);
  const Dhcpv4Message m = Decode(*fit);
  const std::vector<std::string> search = SearchOf(m);
  // A prefix of the list, the rest named in the order it was left out (last first).
  ASSERT_GE(search.size(), 1u);
  ASSERT_LT(search.size(), 6u);
  std::vector<std::string> expected_left_out;
  for (size_t i = 6; i > search.size(); --i)
    expected_left_out.push_back("search domain " + LongDomain(static_cast<int>(i - 1)));
  const std::vector<std::string> all = SixLongDomains();
  EXPECT_EQ(search, std::vector<std::string>(all.begin(), all.begin() + search.size()));
  EXPECT_EQ(fit->left_out, expected_left_out);
  // Nothing else had to go.
  for (uint8_t code : {opt4::kSubnetMask, opt4::kRouter, opt4::kDns, opt4::kMtu, opt4::kHostname,
                       opt4::kDomainName, opt4::kNtp, opt4::kTftpServer, opt4::kBootFile})
    EXPECT_NE(m.Find(code), nullptr) << int{code};
  EXPECT_NE(m.Find(240), nullptr);
  EXPECT_NE(m.Find(241), nullptr);
}

TEST(Dhcpv4Options, SmallerBudgetsLeaveOutMoreInTheDocumentedOrder) {
  const Dhcpv4Options opts = Make(Offer());
  // The whole order for this offer: 5 tail domains, 241, 240, NTP, 15, the first domain,
  // 67, 66, 12.
  std::vector<std::string> order;
  for (int i = 5; i >= 1; --i) order.push_back("search domain " + LongDomain(i));
  order.insert(order.end(), {"option 241", "option 240", "NTP servers (42)", "domain name (15)",
                             "search domain " + LongDomain(0), "boot file name (67)",
                             "TFTP server name (66)", "host name (12)"});
  EXPECT_EQ(opts.droppable(), order.size());
  size_t previous = 0;
  for (size_t budget = 1400 - 28; budget >= 300; budget -= 4) {
    auto fit = opts.Fit(OfferHead(), budget);
    ASSERT_TRUE(fit.ok()) << budget << ": " << fit.status();
    EXPECT_LE(fit->bytes.size(), std::max<size_t>(budget, kBootpMinSize)) << budget;
    // Always a prefix of the order, never less than a larger budget left out.
    ASSERT_LE(fit->left_out.size(), order.size());
    EXPECT_EQ(fit->left_out,
              std::vector<std::string>(order.begin(), order.begin() + fit->left_out.size()))
        << budget;
    EXPECT_GE(fit->left_out.size(), previous) << budget;
    previous = fit->left_out.size();
    // And the essentials are always there.
    const Dhcpv4Message m = Decode(*fit);
    for (uint8_t code : {opt4::kSubnetMask, opt4::kRouter, opt4::kDns, opt4::kMtu,
                         opt4::kMessageType, opt4::kServerId, opt4::kLeaseTime})
      EXPECT_NE(m.Find(code), nullptr) << budget << " " << int{code};
  }
  EXPECT_GT(previous, 5u);
  // A reply whose `file` and `sname` fields are taken (no overloading) has 59 bytes for
  // options in a 300-byte message: the essentials (49) and the host name (5) only.
  Dhcpv4Message head = OfferHead();
  head.file[0] = 'x';
  head.sname[0] = 'x';
  auto fit = opts.Fit(head, 300);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ(fit->left_out, std::vector<std::string>(order.begin(), order.end() - 1));
}

TEST(Dhcpv4Options, StartingFromALargerBudgetsAnswerGivesTheSameFit) {
  const Dhcpv4Options opts = Make(Offer());
  auto big = opts.Fit(OfferHead(), 1000);
  ASSERT_TRUE(big.ok());
  for (size_t budget : {size_t{900}, size_t{700}, k576, size_t{400}}) {
    auto from_zero = opts.Fit(OfferHead(), budget);
    auto from_big = opts.Fit(OfferHead(), budget, big->left_out.size());
    ASSERT_TRUE(from_zero.ok() && from_big.ok());
    EXPECT_EQ(from_zero->left_out, from_big->left_out) << budget;
    EXPECT_EQ(from_zero->bytes, from_big->bytes) << budget;
  }
}

TEST(Dhcpv4Options, SearchDomainsThatCannotBeOfferedAreSkippedNotFatal) {
  api::DhcpV4Offer o = Offer();
  o.search_domains = {"Default.SVC.cluster.local.", "bad..domain", "svc.cluster.local",
                      "default.svc.cluster.local", "cluster.local"};
  const Dhcpv4Options opts = Make(o);
  EXPECT_THAT(opts.skipped(),
              ElementsAre(HasSubstr("\"bad..domain\""), HasSubstr("default.svc.cluster.local")));
  auto fit = opts.Fit(OfferHead(), k576);
  ASSERT_TRUE(fit.ok());
  EXPECT_THAT(SearchOf(Decode(*fit)),
              ElementsAre("default.svc.cluster.local", "svc.cluster.local", "cluster.local"));
}

TEST(Dhcpv4Options, SearchListBeyondTheMaximumIsSkipped) {
  api::DhcpV4Offer o = Offer();
  o.search_domains.clear();
  for (int i = 0; i < 32; ++i)  // 62 characters, 64 bytes in wire form
    o.search_domains.push_back(absl::StrFormat("n%02d-%s.example.com", i, std::string(46, 'x')));
  const Dhcpv4Options opts = Make(o);
  ASSERT_EQ(opts.skipped().size(), 1u);
  EXPECT_THAT(opts.skipped()[0], HasSubstr("beyond 1024 bytes"));
  auto fit = opts.Fit(OfferHead(), 9000 - 28);
  ASSERT_TRUE(fit.ok());
  const auto search = SearchOf(Decode(*fit));
  EXPECT_EQ(search.size(), 1024u / 64);
  EXPECT_EQ(search.front(), o.search_domains.front());
}

TEST(Dhcpv4Options, EssentialsThatCannotFitA576ByteReplyRefuseTheOffer) {
  api::DhcpV4Offer o = Offer();
  for (int i = 0; i < 60; ++i) o.routes.push_back({absl::StrCat("10.", i, ".0.0/16"), "10.0.2.1"});
  auto r = Dhcpv4Options::FromOffer(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("576"));
  o.routes.resize(40);  // 40 routes of 8 bytes still fit
  EXPECT_TRUE(Dhcpv4Options::FromOffer(o).ok());
}

// ---- Routes (RFC 3442): option 121 carries the offer's routes, the default route last and
// only when there is one.

std::vector<ClasslessRoute> RoutesOf(const std::vector<Dhcpv4Option>& opts) {
  for (const auto& o : opts)
    if (o.code == opt4::kClasslessRoutes) {
      auto r = DecodeClasslessRoutes(o.data);
      EXPECT_TRUE(r.ok());
      return r.ok() ? *r : std::vector<ClasslessRoute>{};
    }
  return {};
}

const std::string* Find(const std::vector<Dhcpv4Option>& opts, uint8_t code) {
  for (const auto& o : opts)
    if (o.code == code) return &o.data;
  return nullptr;
}

api::DhcpV4Offer Bridge() {
  api::DhcpV4Offer o;
  o.server_ip = "169.254.75.10";
  o.client_ip = "10.244.1.5";
  o.prefix_len = 24;
  return o;
}

TEST(Dhcpv4Routes, NoDefaultRouteOnThePodLinkMeansNoneForTheGuest) {
  api::DhcpV4Offer o = Bridge();
  o.routes = {{"10.96.0.0/12", "10.244.1.1"}};
  const auto opts = Make(o).All();
  EXPECT_EQ(Find(opts, opt4::kRouter), nullptr);
  EXPECT_THAT(RoutesOf(opts), ElementsAre(ClasslessRoute{{10, 96, 0, 0}, 12, {10, 244, 1, 1}}));
}

TEST(Dhcpv4Routes, TheDefaultRouteGoesLastAndIsAlsoOption3) {
  api::DhcpV4Offer o = Bridge();
  o.routes = {{"0.0.0.0/0", "10.244.1.1"}, {"10.96.0.0/12", "10.244.1.254"}};
  const auto opts = Make(o).All();
  ASSERT_NE(Find(opts, opt4::kRouter), nullptr);
  EXPECT_EQ(testing::ToHex(*Find(opts, opt4::kRouter)), "0a f4 01 01");
  EXPECT_THAT(RoutesOf(opts), ElementsAre(ClasslessRoute{{10, 96, 0, 0}, 12, {10, 244, 1, 254}},
                                          ClasslessRoute{{}, 0, {10, 244, 1, 1}}));
}

TEST(Dhcpv4Routes, ARouterAloneIsOption3Only) {
  api::DhcpV4Offer o = Bridge();
  o.router = "10.244.1.1";
  const auto opts = Make(o).All();
  EXPECT_NE(Find(opts, opt4::kRouter), nullptr);
  EXPECT_EQ(Find(opts, opt4::kClasslessRoutes), nullptr);
}

TEST(Dhcpv4Routes, AnOnLinkDefaultRouteNeedsOption121) {
  api::DhcpV4Offer o = Bridge();
  o.routes = {{"0.0.0.0/0", ""}};
  const auto opts = Make(o).All();
  EXPECT_EQ(Find(opts, opt4::kRouter), nullptr);
  EXPECT_THAT(RoutesOf(opts), ElementsAre(ClasslessRoute{{}, 0, {}}));
}

TEST(Dhcpv4Routes, Ipv6RoutesAreNotDhcpv4s) {
  api::DhcpV4Offer o = Bridge();
  o.routes = {{"fd00::/8", "fd00::1"}, {"::/0", "fd00::1"}};
  const auto opts = Make(o).All();
  EXPECT_EQ(Find(opts, opt4::kRouter), nullptr);
  EXPECT_EQ(Find(opts, opt4::kClasslessRoutes), nullptr);
}

}  // namespace
}  // namespace k6t::dhcp
