#include "masquerade_nat.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace k6t::binding {
namespace {

std::string Proto(const std::string& p) { return p.empty() ? "tcp" : absl::AsciiStrToLower(p); }

}  // namespace

NftTable MasqueradeNatTable(const MasqueradeNat& n) {
  const bool v6 = n.family == "ip6";
  const std::string addr = v6 ? "ip6" : "ip";
  const std::string loopback = v6 ? "::1" : "127.0.0.1";

  // Port matches shared by the three forwarding rules: "tcp dport 80", "udp dport 53-60".
  std::vector<std::string> matches;
  for (const auto& p : n.ports)
    matches.push_back(absl::StrCat(Proto(p.protocol), " dport ", p.port));
  for (const auto& r : n.port_ranges)
    matches.push_back(absl::StrCat(Proto(r.protocol), " dport ", r.start, "-", r.end));
  if (matches.empty()) matches.push_back("");  // everything
  auto with = [](const std::string& m) { return m.empty() ? std::string() : m + " "; };

  std::string preinbound, postinbound, output;
  for (const auto& m : matches) {
    absl::StrAppend(&preinbound, "\t\t", with(m), "dnat to ", n.vm_ip, "\n");
    absl::StrAppend(&postinbound, "\t\t", with(m), addr, " saddr ", loopback, " snat to ",
                    n.gateway_ip, "\n");
    absl::StrAppend(&output, "\t\t", addr, " daddr ", loopback, " ", with(m), "dnat to ", n.vm_ip,
                    "\n");
  }

  NftTable t;
  t.family = n.family;
  t.name = n.table;
  t.body = absl::StrCat(
      "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n",
      "\t\tiifname \"", n.pod_iface, "\" jump KUBEVIRT_PREINBOUND\n\t}\n",
      "\tchain input {\n\t\ttype nat hook input priority 100; policy accept;\n\t}\n",
      "\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n", output, "\t}\n",
      "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n",
      "\t\t", addr, " saddr ", n.vm_ip, " masquerade\n", "\t\toifname \"", n.bridge,
      "\" jump KUBEVIRT_POSTINBOUND\n\t}\n", "\tchain KUBEVIRT_PREINBOUND {\n", preinbound, "\t}\n",
      "\tchain KUBEVIRT_POSTINBOUND {\n", postinbound, "\t}\n");
  return t;
}

}  // namespace k6t::binding
