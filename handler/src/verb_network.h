// The pod network verbs of k6t-handler, and how they (and `sync`) read a VM, its pod
// namespace and the Multus network-status from the command line.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "args.h"
#include "k6t/api/network_status.h"
#include "k6t/binding/pod_network.h"

namespace k6t::handler {

// Exit code when the kernel or libvirt refused an operation (it was rolled back).
inline constexpr int kExitFailed = 3;
// Exit code when the kernel refused an operation and the rollback failed too: the namespace
// is not clean (what was left is printed; `teardown` removes it, `setup` resumes).
inline constexpr int kExitNotClean = 5;

// --vmi, --pod-netns, --network-status, --network-info, --interface, --tap-owner
// [, --state-dir].
void AddCommonFlags(ArgParser& p, bool needs_state);

// The command line as a request; on failure it printed why and exit_code says how to stop.
struct Loaded {
  binding::PodNetworkRequest req;
  ParsedArgs args;
  int exit_code = -1;  // >= 0: stop with this code
};
Loaded Load(ArgParser& parser, int argc, char** argv, bool needs_state);

// Prints "k6t-handler VERB: message" (and, after a failed rollback, one line per undo step
// that failed) and returns the verb's exit code for `st`.
int Fail(const char* verb, const absl::Status& st);

absl::StatusOr<std::vector<api::NetworkStatusEntry>> ReadNetworkStatusFile(const std::string& path);

// Decodes and validates one VM/VMI file. Unreadable: the decoder's status; undecodable or
// invalid: kInvalidArgument, one "FILE: PATH: message" line per error.
absl::StatusOr<api::Vmi> LoadVmiFile(const std::string& file);

int RunPlan(int argc, char** argv);
int RunSetup(int argc, char** argv);
int RunTeardown(int argc, char** argv);

}  // namespace k6t::handler
