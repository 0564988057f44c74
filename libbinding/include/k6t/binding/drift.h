// Drift: how a pod's network namespace differs from the state an applied plan put there
// (someone deleted a tap, changed a MAC, released a port, flushed an address, dropped the
// NAT table). The check beside the executor: the executor makes a plan's state, this reads
// it back. Only what the plan decided is compared: a tap's MAC (the kernel's pick) or a
// sysctl someone else may own is not.
//
// Errors: none; a table the nftables adapter cannot list is reported as drift of kind
// kNftTable with the adapter's message. Thread-safety: FindDrift runs on the adapters'
// thread (kernel.h); Drift is a plain value. Privileges: none beyond being in the namespace.
#pragma once

#include <string>
#include <vector>

#include "k6t/binding/kernel.h"
#include "k6t/binding/plan.h"
#include "k6t/binding/pod_state.h"

namespace k6t::binding {

enum class DriftKind {
  kUnfinished,      // the state dir says the interface's setup did not finish
  kPodLinkMissing,  // the CNI's link (or the placeholder keeping its name) is gone
  kLinkMissing,     // a link the plan created or renamed is gone
  kLinkKind,        // a link of that name is of another kind than the plan made
  kLinkReplaced,    // the renamed CNI link is another link now (another ifindex)
  kMac,             // a MAC the plan set differs
  kMaster,          // a port the plan enslaved has another master or none
  kAdminState,      // a link the plan brought up (or left down) is not so
  kAddress,         // an address the plan added is missing
  kNftTable,        // an nftables table the plan wrote is missing or cannot be read
};

struct Drift {
  std::string interface;  // the VMI interface whose plan it is
  DriftKind kind;
  std::string message;  // e.g. "tap0 is missing", "k6t-eth0 has MAC ..., expected ..."
};

// "kUnfinished" -> "unfinished", ... (stable names for logs and JSON).
const char* DriftKindName(DriftKind kind);

// "blue: tap16477688c0e is missing; default: ..." for an error message.
std::string DescribeDrift(const std::vector<Drift>& drift);

// Every difference between `pod` (observed after the apply) and what `plan` put in place;
// nftables tables are listed through `nft`. Empty: the namespace is as the plan left it.
std::vector<Drift> FindDrift(const InterfacePlan& plan, const PodState& pod, Nft& nft);

}  // namespace k6t::binding
