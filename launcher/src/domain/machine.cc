#include "domain/machine.h"

#include <cctype>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "k6t/api/hash.h"

namespace k6t::launcher {
namespace {

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string DomainName(const api::Vmi& vmi) {
  return absl::StrCat(vmi.meta.namespace_.empty() ? "default" : vmi.meta.namespace_, "_",
                      vmi.meta.name);
}

std::string DomainUuid(const api::Vmi& vmi) {
  if (IsUuid(vmi.meta.uid)) return absl::AsciiStrToLower(vmi.meta.uid);
  const std::string key = vmi.meta.uid.empty() ? DomainName(vmi) : vmi.meta.uid;
  const uint64_t a = api::Fnv1a64(key);
  const uint64_t b = api::Fnv1a64(key, a ^ 0x9e3779b97f4a7c15ULL);
  char buf[37];
  // Version 8 (custom) UUID, RFC 4122 variant.
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff),
                static_cast<unsigned>((a & 0x0fff) | 0x8000),
                static_cast<unsigned>(((b >> 48) & 0x3fff) | 0x8000),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

int64_t MemoryBytes(const api::Domain& dom) {
  return dom.memory_bytes > 0 ? dom.memory_bytes : kDefaultMemoryMiB * 1024 * 1024;
}

absl::StatusOr<domxml::Element> AppendMachine(domxml::Element domain, const api::Vmi& vmi,
                                              const DomainOptions& options) {
  const api::CpuTopology& topo = vmi.spec.domain.cpu;
  if (topo.sockets < 1 || topo.cores < 1 || topo.threads < 1)
    return absl::InvalidArgumentError(absl::StrCat("CPU topology sockets=", topo.sockets,
                                                   " cores=", topo.cores, " threads=", topo.threads,
                                                   " must all be at least 1"));
  const bool kvm = options.accel == Accel::kKvm;
  domain.Set("type", kvm ? "kvm" : "qemu");
  domain.Add("name", DomainName(vmi));
  domain.Add("uuid", DomainUuid(vmi));
  domain.Add("memory", absl::StrCat((MemoryBytes(vmi.spec.domain) + 1023) / 1024))
      .Set("unit", "KiB");
  domain.Add("vcpu", absl::StrCat(topo.vcpus())).Set("placement", "static");
  domxml::Element os = domain.Add("os");
  os.Add("type", "hvm").Set("arch", "x86_64").Set("machine", "q35");
  domxml::Element features = domain.Add("features");
  features.Add("acpi");
  features.Add("apic");
  domain.Add("cpu")
      .Set("mode", kvm ? "host-passthrough" : "maximum")
      .Set("check", "none")
      .Add("topology")
      .Set("sockets", topo.sockets)
      .Set("dies", 1)
      .Set("cores", topo.cores)
      .Set("threads", topo.threads);
  domain.Add("clock").Set("offset", "utc");
  domain.Add("on_poweroff", "destroy");
  domain.Add("on_reboot", "restart");
  domain.Add("on_crash", "destroy");
  return os;
}

}  // namespace k6t::launcher
