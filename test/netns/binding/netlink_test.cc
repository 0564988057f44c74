// The libnl adapter against the kernel, inside scratch namespaces.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "k6t/binding/kernel.h"
#include "k6t/binding/link_wait.h"
#include "k6t/binding/netns.h"
#include "support/scratch_netns.h"

namespace k6t::binding {
namespace {

using ::k6t::testing::In;
using ::k6t::testing::ScratchNetns;
using ::k6t::testing::ScratchNetnsTest;
using ::testing::Each;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class NetlinkTest : public ScratchNetnsTest {
 protected:
  NetlinkTest() : ScratchNetnsTest("nl") {}
  void SetUp() override {
    ScratchNetnsTest::SetUp();
    if (HasFatalFailure()) return;
    nl_ = In(*thread_, [] { return NewNetlink(); });
  }
  void TearDown() override {
    if (thread_)
      In(*thread_, [this] {
        nl_.reset();
        return 0;
      });
    ScratchNetnsTest::TearDown();
  }

  template <typename F>
  auto Do(F f) {
    return In(*thread_, [&] { return f(*nl_); });
  }
  Link MustGet(const std::string& name) {
    auto l = Do([&](Netlink& n) { return n.GetLink(name); });
    EXPECT_TRUE(l.ok()) << l.status();
    if (!l.ok() || !*l) {
      ADD_FAILURE() << "no link " << name;
      return Link{};
    }
    return **l;
  }
  std::string Ip(const std::string& args) { return ns_->Exec("ip " + args).out; }

  std::unique_ptr<Netlink> nl_;
};

TEST_F(NetlinkTest, CreatesBridgeAndLooksItUpByNameAndIndex) {
  ASSERT_TRUE(Do([](Netlink& n) {
                return n.CreateLink("br-t", "bridge", "02:AB:00:00:00:01", 1400);
              }).ok());
  Link l = MustGet("br-t");
  EXPECT_EQ(l.kind, "bridge");
  EXPECT_EQ(l.mac, "02:ab:00:00:00:01");
  EXPECT_EQ(l.mtu, 1400);
  EXPECT_FALSE(l.admin_up);
  EXPECT_EQ(l.master_index, 0);
  EXPECT_GT(l.index, 0);
  EXPECT_THAT(Ip("-d link show br-t"), HasSubstr("link/ether 02:ab:00:00:00:01"));
  EXPECT_THAT(Ip("-d link show br-t"), HasSubstr("mtu 1400"));

  auto by_index = Do([&](Netlink& n) { return n.GetLinkByIndex(l.index); });
  ASSERT_TRUE(by_index.ok()) << by_index.status();
  ASSERT_TRUE(by_index->has_value());
  EXPECT_EQ((*by_index)->name, "br-t");

  auto none = Do([](Netlink& n) { return n.GetLink("no-such-link"); });
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  auto none_idx = Do([](Netlink& n) { return n.GetLinkByIndex(999999); });
  ASSERT_TRUE(none_idx.ok()) << none_idx.status();
  EXPECT_FALSE(none_idx->has_value());

  auto all = Do([](Netlink& n) { return n.ListLinks(); });
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::string> names;
  for (const auto& x : *all) names.push_back(x.name);
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("lo", "br-t"));
}

TEST_F(NetlinkTest, LoopbackIsUpWithCarrier) {
  Link lo = MustGet("lo");
  EXPECT_TRUE(lo.admin_up);
  EXPECT_TRUE(lo.oper_up);
  EXPECT_EQ(lo.kind, "");
}

TEST_F(NetlinkTest, CreateErrorsNameTheLinkAndMapCodes) {
  ASSERT_TRUE(Do([](Netlink& n) { return n.CreateLink("br-x", "bridge", "", 0); }).ok());
  absl::Status again = Do([](Netlink& n) { return n.CreateLink("br-x", "bridge", "", 0); });
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  EXPECT_THAT(std::string(again.message()), HasSubstr("br-x"));

  absl::Status bad_kind = Do([](Netlink& n) { return n.CreateLink("k-x", "nosuchkind", "", 0); });
  EXPECT_EQ(bad_kind.code(), absl::StatusCode::kUnimplemented) << bad_kind;
  EXPECT_THAT(std::string(bad_kind.message()), HasSubstr("k-x"));

  absl::Status bad_mac = Do([](Netlink& n) { return n.CreateLink("br-y", "bridge", "zz", 0); });
  EXPECT_EQ(bad_mac.code(), absl::StatusCode::kInvalidArgument) << bad_mac;
  absl::Status long_name =
      Do([](Netlink& n) { return n.CreateLink("name-longer-than-15", "bridge", "", 0); });
  EXPECT_EQ(long_name.code(), absl::StatusCode::kInvalidArgument) << long_name;
}

TEST_F(NetlinkTest, CreatesIfb) {
  ASSERT_TRUE(
      Do([](Netlink& n) { return n.CreateLink("ifb-t", "ifb", "02:00:00:00:00:07", 0); }).ok());
  Link l = MustGet("ifb-t");
  EXPECT_EQ(l.kind, "ifb");
  EXPECT_EQ(l.mac, "02:00:00:00:00:07");
  EXPECT_THAT(Ip("-d link show ifb-t"), HasSubstr("NOARP"));
}

TEST_F(NetlinkTest, CreatesVethWithPeerInAnotherNamespace) {
  auto other = ScratchNetns::Create("peer");
  ASSERT_TRUE(other.ok()) << other.status();
  auto other_thread = NetnsThread::Enter((*other)->path());
  ASSERT_TRUE(other_thread.ok()) << other_thread.status();
  int fd = (*other_thread)->fd();
  ASSERT_TRUE(Do([&](Netlink& n) { return n.CreateVeth("ve-a", "ve-b", fd); }).ok());
  EXPECT_EQ(MustGet("ve-a").kind, "veth");
  auto here = Do([](Netlink& n) { return n.GetLink("ve-b"); });
  ASSERT_TRUE(here.ok());
  EXPECT_FALSE(here->has_value()) << "peer must not be in the first namespace";
  EXPECT_EQ((*other)->Exec("ip link show ve-b").code, 0);
  auto there = In(**other_thread, [] { return NewNetlink()->GetLink("ve-b"); });
  ASSERT_TRUE(there.ok()) << there.status();
  ASSERT_TRUE(there->has_value());
  EXPECT_EQ((*there)->kind, "veth");
  other_thread->reset();
}

TEST_F(NetlinkTest, CreatesVethPairInSameNamespace) {
  ASSERT_TRUE(Do([](Netlink& n) { return n.CreateVeth("vs-a", "vs-b", -1); }).ok());
  EXPECT_EQ(MustGet("vs-a").kind, "veth");
  EXPECT_EQ(MustGet("vs-b").kind, "veth");
}

TEST_F(NetlinkTest, ChangesNameMacMtuMasterAndUpInOneCallOnARunningLink) {
  ASSERT_TRUE(Do([](Netlink& n) { return n.CreateLink("br0", "bridge", "", 0); }).ok());
  ASSERT_TRUE(Do([](Netlink& n) { return n.CreateVeth("v1", "v1p", -1); }).ok());
  ASSERT_EQ(ns_->Exec("ip link set v1 up").code, 0);
  const int br = MustGet("br0").index;
  const int idx = MustGet("v1").index;

  LinkChange c;
  c.name = "v1-nic";
  c.mac = "0A:58:0A:00:00:09";
  c.mtu = 1300;
  c.master_index = br;
  c.up = true;
  absl::Status st = Do([&](Netlink& n) { return n.ChangeLink("v1", c); });
  ASSERT_TRUE(st.ok()) << st;

  Link l = MustGet("v1-nic");
  EXPECT_EQ(l.index, idx);
  EXPECT_EQ(l.mac, "0a:58:0a:00:00:09");
  EXPECT_EQ(l.mtu, 1300);
  EXPECT_EQ(l.master_index, br);
  EXPECT_TRUE(l.admin_up);
  EXPECT_THAT(Ip("link show v1-nic"), HasSubstr("master br0"));
  EXPECT_NE(ns_->Exec("ip link show v1").code, 0);

  // Rename of an up link without `up` in the change: it comes back up.
  LinkChange back;
  back.name = "v1";
  ASSERT_TRUE(Do([&](Netlink& n) { return n.ChangeLink("v1-nic", back); }).ok());
  EXPECT_TRUE(MustGet("v1").admin_up);

  // Release from the master and take it down.
  LinkChange release;
  release.master_index = 0;
  release.up = false;
  ASSERT_TRUE(Do([&](Netlink& n) { return n.ChangeLink("v1", release); }).ok());
  EXPECT_EQ(MustGet("v1").master_index, 0);
  EXPECT_FALSE(MustGet("v1").admin_up);
  EXPECT_THAT(Ip("link show v1"), Not(HasSubstr("master")));

  // Nothing to change: success without touching anything.
  EXPECT_TRUE(Do([&](Netlink& n) { return n.ChangeLink("v1", LinkChange{}); }).ok());
}

TEST_F(NetlinkTest, FailedChangePutsTheLinkBack) {
  ASSERT_TRUE(Do([](Netlink& n) { return n.CreateVeth("v2", "v2p", -1); }).ok());
  ASSERT_EQ(ns_->Exec("ip link set v2 mtu 1450 up").code, 0);
  Link before = MustGet("v2");
  LinkChange c;
  c.name = "v2-nic";
  c.mtu = 1200;
  c.master_index = 999999;  // applied after name and MTU by the kernel, and rejected
  absl::Status st = Do([&](Netlink& n) { return n.ChangeLink("v2", c); });
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), HasSubstr("v2"));
  Link after = MustGet("v2");
  EXPECT_EQ(after.index, before.index);
  EXPECT_EQ(after.mtu, 1450);
  EXPECT_TRUE(after.admin_up);
  EXPECT_NE(ns_->Exec("ip link show v2-nic").code, 0);
}

TEST_F(NetlinkTest, ChangeOfAbsentLinkIsNotFoundNamingIt) {
  LinkChange c;
  c.up = true;
  absl::Status st = Do([&](Netlink& n) { return n.ChangeLink("ghost0", c); });
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("ghost0"));
}

TEST_F(NetlinkTest, RenameToAnExistingNameFailsAndKeepsTheLink) {
  ASSERT_TRUE(Do([](Netlink& n) { return n.CreateLink("br-a", "bridge", "", 0); }).ok());
  ASSERT_TRUE(Do([](Netlink& n) { return n.CreateLink("br-b", "bridge", "", 0); }).ok());
  ASSERT_EQ(ns_->Exec("ip link set br-a up").code, 0);
  LinkChange c;
  c.name = "br-b";
  absl::Status st = Do([&](Netlink& n) { return n.ChangeLink("br-a", c); });
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("br-a"));
  EXPECT_TRUE(MustGet("br-a").admin_up) << "the link must be brought back up";
}

TEST_F(NetlinkTest, TurnsPortLearningOffAndReadsItBack) {
  ASSERT_TRUE(Do([](Netlink& n) { return n.CreateLink("br0", "bridge", "", 0); }).ok());
  ASSERT_TRUE(Do([](Netlink& n) { return n.CreateVeth("p1", "p1p", -1); }).ok());
  LinkChange c;
  c.master_index = MustGet("br0").index;
  ASSERT_TRUE(Do([&](Netlink& n) { return n.ChangeLink("p1", c); }).ok());
  EXPECT_TRUE(MustGet("p1").learning);

  ASSERT_TRUE(Do([](Netlink& n) { return n.SetPortLearning("p1", false); }).ok());
  EXPECT_FALSE(MustGet("p1").learning);
  EXPECT_THAT(ns_->Exec("bridge -d link show dev p1").out, HasSubstr("learning off"));
  auto listed = Do([](Netlink& n) { return n.ListLinks(); });
  ASSERT_TRUE(listed.ok());
  for (const auto& l : *listed) {
    if (l.name == "p1") {
      EXPECT_FALSE(l.learning);
    }
  }

  ASSERT_TRUE(Do([](Netlink& n) { return n.SetPortLearning("p1", true); }).ok());
  EXPECT_TRUE(MustGet("p1").learning);
  EXPECT_THAT(ns_->Exec("bridge -d link show dev p1").out, HasSubstr("learning on"));

  absl::Status not_port = Do([](Netlink& n) { return n.SetPortLearning("p1p", false); });
  EXPECT_EQ(not_port.code(), absl::StatusCode::kFailedPrecondition) << not_port;
  EXPECT_THAT(std::string(not_port.message()), HasSubstr("p1p"));
}

// What the executor does for the bridge binding's CNI link: rename, MAC, master, up and
// learning off in one change of a link it has just read.
TEST_F(NetlinkTest, ChangesAKnownLinkInOneCallIncludingLearning) {
  ASSERT_TRUE(Do([](Netlink& n) { return n.CreateLink("br0", "bridge", "", 0); }).ok());
  ASSERT_TRUE(Do([](Netlink& n) { return n.CreateVeth("v1", "v1p", -1); }).ok());
  LinkChange up;
  up.up = true;
  ASSERT_TRUE(Do([&](Netlink& n) { return n.ChangeLink("v1", up); }).ok());
  const Link before = MustGet("v1");
  ASSERT_TRUE(before.admin_up);

  LinkChange c;
  c.name = "v1-nic";
  c.mac = "02:6b:36:00:00:01";
  c.master_index = MustGet("br0").index;
  c.up = true;
  c.learning = false;
  ASSERT_TRUE(Do([&](Netlink& n) { return n.ChangeKnownLink(before, c); }).ok());
  Link after = MustGet("v1-nic");
  EXPECT_EQ(after.index, before.index);
  EXPECT_EQ(after.mac, "02:6b:36:00:00:01");
  EXPECT_EQ(after.master_index, MustGet("br0").index);
  EXPECT_TRUE(after.admin_up);
  EXPECT_FALSE(after.learning);
  EXPECT_THAT(ns_->Exec("bridge -d link show dev v1-nic").out, HasSubstr("learning off"));

  // Learning on a link that is no port is refused before anything changes.
  LinkChange bad;
  bad.name = "v1p-x";
  bad.learning = false;
  const Link peer = MustGet("v1p");
  absl::Status st = Do([&](Netlink& n) { return n.ChangeKnownLink(peer, bad); });
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_EQ(MustGet("v1p").index, peer.index) << "v1p must keep its name";
}

TEST_F(NetlinkTest, AddsListsAndDeletesAddressesOfBothFamilies) {
  ASSERT_TRUE(Do([](Netlink& n) { return n.CreateLink("br0", "bridge", "", 0); }).ok());
  ASSERT_TRUE(Do([](Netlink& n) { return n.CreateLink("br1", "bridge", "", 0); }).ok());
  const int br0 = MustGet("br0").index;
  const int br1 = MustGet("br1").index;
  ASSERT_TRUE(Do([&](Netlink& n) { return n.AddAddress(br0, "10.0.2.1/24"); }).ok());
  ASSERT_TRUE(Do([&](Netlink& n) { return n.AddAddress(br0, "fd10:0:2::1/120"); }).ok());
  ASSERT_TRUE(Do([&](Netlink& n) { return n.AddAddress(br1, "192.168.7.1/32"); }).ok());

  auto addrs = Do([&](Netlink& n) { return n.ListAddresses(br0); });
  ASSERT_TRUE(addrs.ok()) << addrs.status();
  std::vector<std::string> cidrs;
  for (const auto& a : *addrs) {
    EXPECT_EQ(a.link_index, br0);
    cidrs.push_back(a.cidr);
  }
  EXPECT_THAT(cidrs, ::testing::UnorderedElementsAre("10.0.2.1/24", "fd10:0:2::1/120"));
  EXPECT_THAT(Ip("addr show br0"), HasSubstr("inet 10.0.2.1/24 brd 10.0.2.255"));
  EXPECT_THAT(Ip("addr show br0"), HasSubstr("inet6 fd10:0:2::1/120"));
  EXPECT_THAT(Ip("addr show br0"), Not(HasSubstr("tentative")));

  absl::Status dup = Do([&](Netlink& n) { return n.AddAddress(br0, "10.0.2.1/24"); });
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists) << dup;
  EXPECT_THAT(std::string(dup.message()), HasSubstr("10.0.2.1/24"));
  EXPECT_EQ(Do([&](Netlink& n) { return n.AddAddress(br0, "10.0.2.300/24"); }).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Do([&](Netlink& n) { return n.AddAddress(br0, "10.0.2.3"); }).code(),
            absl::StatusCode::kInvalidArgument);

  ASSERT_TRUE(Do([&](Netlink& n) { return n.DeleteAddress(br0, "10.0.2.1/24"); }).ok());
  ASSERT_TRUE(Do([&](Netlink& n) { return n.DeleteAddress(br0, "fd10:0:2::1/120"); }).ok());
  EXPECT_TRUE(Do([&](Netlink& n) { return n.DeleteAddress(br0, "10.0.2.1/24"); }).ok())
      << "deleting an absent address is success";
  addrs = Do([&](Netlink& n) { return n.ListAddresses(br0); });
  ASSERT_TRUE(addrs.ok());
  EXPECT_TRUE(addrs->empty());
  auto other = Do([&](Netlink& n) { return n.ListAddresses(br1); });
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other->size(), 1u);
  EXPECT_EQ((*other)[0].cidr, "192.168.7.1/32");
}

TEST_F(NetlinkTest, ReadsAndAddsMainTableRoutes) {
  ASSERT_TRUE(Do([](Netlink& n) { return n.CreateVeth("r0", "r0p", -1); }).ok());
  ASSERT_EQ(ns_->Exec("ip link set r0p up && ip link set r0 up && "
                      "ip addr add 10.88.0.5/16 dev r0 && ip addr add fd00::5/64 dev r0 nodad && "
                      "ip route add default via 10.88.0.1 && "
                      "ip route add 10.9.0.0/24 via 10.88.0.254 dev r0 && "
                      "ip -6 route add fd99::/64 dev r0 && "
                      "ip route add 10.77.0.0/16 dev r0 table 100")
                .code,
            0);
  const int r0 = MustGet("r0").index;
  auto routes = Do([](Netlink& n) { return n.ListRoutes(); });
  ASSERT_TRUE(routes.ok()) << routes.status();
  auto has = [&](const std::string& dst, const std::string& gw, bool v6) {
    return std::any_of(routes->begin(), routes->end(), [&](const RouteEntry& r) {
      return r.destination == dst && r.gateway == gw && r.ipv6 == v6 && r.link_index == r0;
    });
  };
  EXPECT_TRUE(has("0.0.0.0/0", "10.88.0.1", false));
  EXPECT_TRUE(has("10.88.0.0/16", "", false));
  EXPECT_TRUE(has("10.9.0.0/24", "10.88.0.254", false));
  EXPECT_TRUE(has("fd99::/64", "", true));
  EXPECT_TRUE(has("fd00::/64", "", true));
  for (const auto& r : *routes) EXPECT_NE(r.destination, "10.77.0.0/16") << "table 100 leaked";

  RouteEntry add{r0, "10.66.0.0/16", "10.88.0.2", false};
  ASSERT_TRUE(Do([&](Netlink& n) { return n.AddRoute(add); }).ok());
  EXPECT_THAT(Ip("route show 10.66.0.0/16"), HasSubstr("via 10.88.0.2 dev r0"));
  EXPECT_TRUE(Do([&](Netlink& n) { return n.AddRoute(add); }).ok()) << "identical route is success";
  RouteEntry clash{r0, "10.66.0.0/16", "10.88.0.3", false};
  EXPECT_EQ(Do([&](Netlink& n) { return n.AddRoute(clash); }).code(),
            absl::StatusCode::kAlreadyExists);
  RouteEntry v6{r0, "::/0", "fd00::1", true};
  ASSERT_TRUE(Do([&](Netlink& n) { return n.AddRoute(v6); }).ok());
  EXPECT_THAT(Ip("-6 route show default"), HasSubstr("via fd00::1 dev r0"));
}

TEST_F(NetlinkTest, DeletesLinksAndAbsentIsSuccess) {
  ASSERT_TRUE(Do([](Netlink& n) { return n.CreateLink("br-d", "bridge", "", 0); }).ok());
  ASSERT_TRUE(Do([](Netlink& n) { return n.DeleteLink("br-d"); }).ok());
  EXPECT_NE(ns_->Exec("ip link show br-d").code, 0);
  EXPECT_TRUE(Do([](Netlink& n) { return n.DeleteLink("br-d"); }).ok());
  EXPECT_TRUE(Do([](Netlink& n) { return n.DeleteLink("never-was"); }).ok());
}

TEST_F(NetlinkTest, SupportsKindMatchesWhatTheKernelCanCreate) {
  // Ground truth from iproute2 in a namespace of its own.
  auto probe_ns = ScratchNetns::Create("probe");
  ASSERT_TRUE(probe_ns.ok());
  const bool has_dummy = (*probe_ns)->Exec("ip link add kd0 type dummy").code == 0;
  EXPECT_EQ(Do([](Netlink& n) { return n.SupportsKind("dummy"); }), has_dummy);
  EXPECT_TRUE(Do([](Netlink& n) { return n.SupportsKind("bridge"); }));
  EXPECT_TRUE(Do([](Netlink& n) { return n.SupportsKind("ifb"); }));
  EXPECT_TRUE(Do([](Netlink& n) { return n.SupportsKind("veth"); }));
  EXPECT_FALSE(Do([](Netlink& n) { return n.SupportsKind("nosuchkind"); }));
  // Probes leave nothing behind.
  auto all = Do([](Netlink& n) { return n.ListLinks(); });
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u) << "only lo should remain";
}

TEST_F(NetlinkTest, ProbingALinkKindCreatesNoLink) {
  // A created-then-deleted probe link would show as RTM_NEWLINK/RTM_DELLINK notifications
  // (and cost the deletion's RCU grace period). Each ctest case runs in its own process, so
  // these kinds are not in the process-wide probe cache yet.
  auto events = In(*thread_, [] { return LinkEvents::Open(); });
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_TRUE(Do([](Netlink& n) { return n.SupportsKind("bridge"); }));
  EXPECT_TRUE(Do([](Netlink& n) { return n.SupportsKind("ifb"); }));
  EXPECT_FALSE(Do([](Netlink& n) { return n.SupportsKind("nosuchkind2"); }));
  // A fresh namespace may still announce lo (linkwatch is asynchronous): only names count.
  EXPECT_THAT((*events)->Drain(), Each(Not(StartsWith("k6tp"))));
}

TEST_F(NetlinkTest, FollowsTheNamespaceOfTheCallingThread) {
  auto other = ScratchNetns::Create("follow");
  ASSERT_TRUE(other.ok());
  auto other_thread = NetnsThread::Enter((*other)->path());
  ASSERT_TRUE(other_thread.ok());
  ASSERT_TRUE(Do([](Netlink& n) { return n.CreateLink("br-here", "bridge", "", 0); }).ok());
  // Same object, now used from the other namespace's thread.
  auto there = In(**other_thread, [&] { return nl_->GetLink("br-here"); });
  ASSERT_TRUE(there.ok());
  EXPECT_FALSE(there->has_value());
  ASSERT_TRUE(
      In(**other_thread, [&] { return nl_->CreateLink("br-there", "bridge", "", 0); }).ok());
  EXPECT_EQ((*other)->Exec("ip link show br-there").code, 0);
  EXPECT_NE(ns_->Exec("ip link show br-there").code, 0);
  other_thread->reset();
}

}  // namespace
}  // namespace k6t::binding
