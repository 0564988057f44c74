#include "k6t/rpc/testing/fake_launcher.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace k6t::rpc::testing {
namespace {

namespace msg = ::k6t::api::rpc;

// Another connection to the same fake launcher.
class FakeConnection : public LauncherClient {
 public:
  explicit FakeConnection(FakeLauncher& launcher) : l_(launcher) {}
  absl::StatusOr<msg::PingResult> Ping() override { return l_.Ping(); }
  absl::StatusOr<msg::SyncVmiResult> SyncVMI(const std::string& vmi_json) override {
    return l_.SyncVMI(vmi_json);
  }
  absl::Status Shutdown(int64_t timeout_seconds) override { return l_.Shutdown(timeout_seconds); }
  absl::Status Kill() override { return l_.Kill(); }
  absl::StatusOr<msg::GetDomainResult> GetDomain() override { return l_.GetDomain(); }
  absl::StatusOr<msg::GetStatusResult> GetStatus() override { return l_.GetStatus(); }
  absl::StatusOr<bool> AttachInterface(const std::string& name) override {
    return l_.AttachInterface(name);
  }
  absl::StatusOr<bool> DetachInterface(const std::string& name) override {
    return l_.DetachInterface(name);
  }
  absl::StatusOr<bool> SetLinkState(const std::string& name, bool up) override {
    return l_.SetLinkState(name, up);
  }

 private:
  FakeLauncher& l_;
};

// The first word of a call's log line: its method.
std::string MethodOf(const std::string& line) { return line.substr(0, line.find(' ')); }

}  // namespace

FakeLauncher::FakeLauncher() = default;

void FakeLauncher::SetState(std::string state) {
  std::lock_guard<std::mutex> g(mu_);
  state_ = std::move(state);
}

void FakeLauncher::SetFreeRootPorts(int64_t n) {
  std::lock_guard<std::mutex> g(mu_);
  free_root_ports_ = n;
}

void FakeLauncher::AddDevice(msg::DomainInterface device) {
  std::lock_guard<std::mutex> g(mu_);
  devices_[device.name] = std::move(device);
}

void FakeLauncher::SetPlanLookup(PlanLookup lookup) {
  std::lock_guard<std::mutex> g(mu_);
  plan_lookup_ = std::move(lookup);
}

void FakeLauncher::FailCall(int n, absl::Status status) {
  std::lock_guard<std::mutex> g(mu_);
  fail_at_[calls_ + n] = std::move(status);
}

void FakeLauncher::GoAwayAt(int n, bool after_effect) {
  std::lock_guard<std::mutex> g(mu_);
  go_away_at_ = calls_ + n;
  go_away_after_effect_ = after_effect;
}

void FakeLauncher::ComeBack() {
  std::lock_guard<std::mutex> g(mu_);
  gone_ = false;
  go_away_at_.reset();
}

bool FakeLauncher::gone() const {
  std::lock_guard<std::mutex> g(mu_);
  return gone_;
}

absl::StatusOr<std::unique_ptr<LauncherClient>> FakeLauncher::Connect() {
  if (gone()) return absl::UnavailableError("connect to launcher at fake: Connection refused");
  return std::make_unique<FakeConnection>(*this);
}

int FakeLauncher::calls() const {
  std::lock_guard<std::mutex> g(mu_);
  return calls_;
}

std::vector<std::string> FakeLauncher::call_log() const {
  std::lock_guard<std::mutex> g(mu_);
  return log_;
}

int FakeLauncher::CallsOf(const std::string& method) const {
  std::lock_guard<std::mutex> g(mu_);
  int n = 0;
  for (const auto& line : log_) n += MethodOf(line) == method;
  return n;
}

std::optional<msg::DomainInterface> FakeLauncher::Device(const std::string& name) const {
  std::lock_guard<std::mutex> g(mu_);
  auto it = devices_.find(name);
  if (it == devices_.end()) return std::nullopt;
  return it->second;
}

int64_t FakeLauncher::free_root_ports() const {
  std::lock_guard<std::mutex> g(mu_);
  return free_root_ports_;
}

std::string FakeLauncher::last_vmi_json() const {
  std::lock_guard<std::mutex> g(mu_);
  return last_vmi_json_;
}

std::string FakeLauncher::Dump() const {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<std::string> lines = {absl::StrCat("domain ", domain_name_, " state=", state_,
                                                 " free_root_ports=", free_root_ports_)};
  for (const auto& [name, d] : devices_) {
    lines.push_back(absl::StrCat("device ", name, " kind=", d.kind, " mac=", d.mac,
                                 " target=", d.target, " link=", d.link_state, " model=", d.model,
                                 " queues=", d.queues, " alias=", d.alias));
  }
  return absl::StrJoin(lines, "\n") + "\n";
}

template <typename T>
absl::StatusOr<T> FakeLauncher::Run(std::string log_line,
                                    const std::function<absl::StatusOr<T>()>& effect) {
  std::lock_guard<std::mutex> g(mu_);
  const int n = calls_++;
  const std::string method = MethodOf(log_line);
  log_.push_back(std::move(log_line));
  if (gone_) {
    return absl::UnavailableError(absl::StrCat("launcher at fake: send ", method, ": Broken pipe"));
  }
  if (go_away_at_ && *go_away_at_ == n) {
    gone_ = true;
    if (go_away_after_effect_) (void)effect();
    return absl::UnavailableError(
        absl::StrCat("launcher at fake: closed the connection while ", method, " was pending"));
  }
  if (auto it = fail_at_.find(n); it != fail_at_.end()) {
    absl::Status st = std::move(it->second);
    fail_at_.erase(it);
    return st;
  }
  return effect();
}

absl::Status FakeLauncher::Running(const std::string& what) const {
  if (state_ == "running") return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(what, ": the domain is not running (", state_, ")"));
}

msg::DomainInterface FakeLauncher::DefaultDevice(const std::string& name) {
  msg::DomainInterface d;
  d.name = name;
  d.mac = absl::StrFormat("02:00:00:00:00:%02x", next_mac_++ & 0xff);
  d.target = absl::StrCat("tap-", name).substr(0, 15);
  d.link_state = "up";
  d.model = "virtio";
  d.alias = absl::StrCat("ua-", name);
  return d;
}

absl::StatusOr<msg::PingResult> FakeLauncher::Ping() {
  return Run<msg::PingResult>("Ping", [] { return msg::PingResult{"fake-launcher"}; });
}

absl::StatusOr<msg::SyncVmiResult> FakeLauncher::SyncVMI(const std::string& vmi_json) {
  return Run<msg::SyncVmiResult>("SyncVMI", [&]() -> absl::StatusOr<msg::SyncVmiResult> {
    last_vmi_json_ = vmi_json;
    return msg::SyncVmiResult{state_, domain_name_};
  });
}

absl::Status FakeLauncher::Shutdown(int64_t timeout_seconds) {
  return Run<bool>(absl::StrCat("Shutdown ", timeout_seconds),
                   [&]() -> absl::StatusOr<bool> {
                     state_ = "stopped";
                     return true;
                   })
      .status();
}

absl::Status FakeLauncher::Kill() {
  return Run<bool>("Kill",
                   [&]() -> absl::StatusOr<bool> {
                     state_ = "stopped";
                     return true;
                   })
      .status();
}

absl::StatusOr<msg::GetDomainResult> FakeLauncher::GetDomain() {
  return Run<msg::GetDomainResult>("GetDomain", [&]() -> absl::StatusOr<msg::GetDomainResult> {
    msg::GetDomainResult out;
    out.state = state_;
    if (state_ == "none") return out;  // no domain: no devices, free_root_ports -1
    out.xml = absl::StrCat("<domain><name>", domain_name_, "</name></domain>");
    out.free_root_ports = free_root_ports_;
    for (const auto& [name, d] : devices_) out.interfaces.push_back(d);
    return out;
  });
}

absl::StatusOr<msg::GetStatusResult> FakeLauncher::GetStatus() {
  return Run<msg::GetStatusResult>("GetStatus", [&]() -> absl::StatusOr<msg::GetStatusResult> {
    msg::GetStatusResult out;
    out.phase = state_;
    for (const auto& [name, d] : devices_) {
      msg::StatusInterface s;
      s.name = name;
      s.mac = d.mac;
      s.link_state = d.link_state;
      s.queue_count = d.queues;
      s.info_source = "domain";
      out.interfaces.push_back(std::move(s));
    }
    return out;
  });
}

absl::StatusOr<bool> FakeLauncher::AttachInterface(const std::string& name) {
  return Run<bool>(absl::StrCat("AttachInterface ", name), [&]() -> absl::StatusOr<bool> {
    const std::string what = absl::StrCat("AttachInterface: attach interface ", name);
    if (auto st = Running(what); !st.ok()) return st;
    msg::DomainInterface device;
    if (plan_lookup_) {
      auto planned = plan_lookup_(name);
      if (!planned.ok()) return planned.status();
      device = *std::move(planned);
      device.name = name;
    } else {
      device = DefaultDevice(name);
    }
    if (devices_.count(name)) return false;
    if (free_root_ports_ <= 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(what, ": no free PCIe root port; restart the VM to get more"));
    }
    devices_[name] = std::move(device);
    --free_root_ports_;
    return true;
  });
}

absl::StatusOr<bool> FakeLauncher::DetachInterface(const std::string& name) {
  return Run<bool>(absl::StrCat("DetachInterface ", name), [&]() -> absl::StatusOr<bool> {
    if (auto st = Running(absl::StrCat("DetachInterface: detach interface ", name)); !st.ok())
      return st;
    if (devices_.erase(name) == 0) return false;
    ++free_root_ports_;
    return true;
  });
}

absl::StatusOr<bool> FakeLauncher::SetLinkState(const std::string& name, bool up) {
  return Run<bool>(
      absl::StrCat("SetLinkState ", name, up ? " up" : " down"), [&]() -> absl::StatusOr<bool> {
        const std::string what = absl::StrCat("SetLinkState: set link state of interface ", name);
        if (auto st = Running(what); !st.ok()) return st;
        auto it = devices_.find(name);
        if (it == devices_.end())
          return absl::NotFoundError(absl::StrCat(what, ": not in the domain"));
        if (it->second.kind != "interface")
          return absl::FailedPreconditionError(
              absl::StrCat(what, ": a ", it->second.kind, " has no link state"));
        const std::string want = up ? "up" : "down";
        if (it->second.link_state == want) return false;
        it->second.link_state = want;
        return true;
      });
}

}  // namespace k6t::rpc::testing
