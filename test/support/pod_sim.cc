#include "test/support/pod_sim.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "test/support/shell.h"

namespace k6t::testsupport {

PodSim::PodSim(const std::string& vm_file, const std::string& extra) {
  name_ = UniqueName("k6p");
  state_dir_ = TempDir() + "/sim";
  CommandResult r = Sh(absl::StrCat(Tool(), " up --name ", name_, " --vm ", SourceDir(), "/",
                                    vm_file, " --state-dir ", state_dir_, " ", extra));
  ok_ = r.exit_code == 0;
  if (!ok_) error_ = r.output;
}

PodSim::~PodSim() {
  Sh(absl::StrCat(Tool(), " del --name ", name_, " --state-dir ", state_dir_));
  Sh("rm -rf " + state_dir_.substr(0, state_dir_.rfind('/')));
}

std::string PodSim::Tool() const { return SourceDir() + "/hack/pod-sim"; }

std::vector<api::NetworkStatusEntry> PodSim::NetworkStatus() const {
  std::ifstream in(status_file());
  std::stringstream ss;
  ss << in.rdbuf();
  auto st = api::ParseNetworkStatus(ss.str());
  return st.ok() ? *st : std::vector<api::NetworkStatusEntry>{};
}

std::string PodSim::Exec(const std::string& cmd) const {
  return ShOk(absl::StrCat("ip netns exec ", name_, " ", cmd));
}

}  // namespace k6t::testsupport
