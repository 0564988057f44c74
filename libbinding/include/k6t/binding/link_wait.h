// Waiting for a pod link the CNI has not created yet (NIC hotplug: Multus adds the network
// to a running pod, then k6t plumbs it). Woken by the kernel's RTNLGRP_LINK notifications,
// not by polling, so the wait ends as soon as the link appears or is renamed into place.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace k6t::binding {

// Returns OK once a link named `name` exists in the calling thread's network namespace
// (run it on a NetnsThread), kDeadlineExceeded after `timeout`, or the netlink error.
absl::Status WaitForLink(const std::string& name, absl::Duration timeout);

}  // namespace k6t::binding
