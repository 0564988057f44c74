// A pod made by hack/pod-sim (the real CNI plugins), deleted when the object goes.
#pragma once

#include <string>
#include <vector>

#include "k6t/api/network_status.h"

namespace k6t::testsupport {

class PodSim {
 public:
  // `vm_file` relative to the source dir; `extra` appended to `pod-sim up`.
  PodSim(const std::string& vm_file, const std::string& extra = "");
  ~PodSim();
  PodSim(const PodSim&) = delete;
  PodSim& operator=(const PodSim&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const std::string& name() const { return name_; }
  std::string netns_path() const { return "/run/netns/" + name_; }
  std::string node_netns() const { return name_ + "-node"; }
  const std::string& state_dir() const { return state_dir_; }
  std::vector<api::NetworkStatusEntry> NetworkStatus() const;
  std::string status_file() const { return state_dir_ + "/network-status.json"; }
  // `ip -n <pod> ...` etc.: runs `cmd` inside the pod netns.
  std::string Exec(const std::string& cmd) const;
  std::string Tool() const;  // path of hack/pod-sim

 private:
  std::string name_, state_dir_, error_;
  bool ok_ = false;
};

}  // namespace k6t::testsupport
