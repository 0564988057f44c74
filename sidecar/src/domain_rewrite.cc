#include "domain_rewrite.h"

#include "absl/strings/str_cat.h"
#include "k6t/domxml/device.h"

namespace k6t::sidecar {
namespace {

using domxml::Element;

absl::Status InterfaceError(const binding::InterfacePlan& plan, const std::string& message) {
  return absl::InvalidArgumentError(
      absl::StrCat("domain XML: interface \"", plan.interface_name, "\": ", message));
}

// The devices carrying `alias` (any kind: a hostdev with a k6t alias is an error, not a miss).
std::vector<Element> WithAlias(const Element& devices, const std::string& alias) {
  std::vector<Element> found;
  for (const Element& e : devices.Children())
    if (e.Child("alias").Attr("name") == alias) found.push_back(e);
  return found;
}

absl::Status RewriteOne(Element domain, const binding::InterfacePlan& plan, bool vhost_net) {
  const std::string alias = domxml::PlanDeviceAlias(plan);
  Element devices = domain.Child("devices");
  std::vector<Element> found = devices ? WithAlias(devices, alias) : std::vector<Element>{};
  if (found.size() > 1)
    return InterfaceError(plan, absl::StrCat(found.size(), " devices have alias ", alias));
  if (found.empty()) {
    domxml::DeviceContext context;
    context.vhost_net = vhost_net;
    return domxml::AppendPlanDevice(domain, plan, context);
  }
  Element current = found.front();
  if (current.name() != "interface")
    return InterfaceError(
        plan, absl::StrCat("alias ", alias, " is on a <", current.name(), ">, not an <interface>"));
  domxml::DeviceContext context;
  context.vhost_net = current.Child("driver").Attr("name") == "vhost";
  auto xml = domxml::PlanDeviceXml(plan, context);
  if (!xml.ok()) return xml.status();
  auto fragment = domxml::ParseXml(*xml, "planned device");
  if (!fragment.ok()) return fragment.status();
  current.ReplaceWithCopy(fragment->root());
  return absl::OkStatus();
}

}  // namespace

absl::Status RewriteInterfaces(Element domain, const std::vector<binding::InterfacePlan>& plans,
                               bool vhost_net) {
  for (const auto& plan : plans)
    if (auto st = RewriteOne(domain, plan, vhost_net); !st.ok()) return st;
  return absl::OkStatus();
}

}  // namespace k6t::sidecar
