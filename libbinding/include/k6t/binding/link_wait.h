// Waiting for a pod link the CNI has not created yet (NIC hotplug: Multus adds the network
// to a running pod, then k6t plumbs it). Woken by the kernel's RTNLGRP_LINK notifications,
// not by polling, so the wait ends as soon as the link appears or is renamed into place.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace k6t::binding {

// A subscription to the link notifications (RTNLGRP_LINK) of the network namespace of the
// thread that opens it. The socket stays bound to that namespace, so a NetnsThread can open
// it and a long-lived event loop on another thread can poll fd(): a controller that must
// react when the CNI adds a link, without polling. Not thread-safe: one reader at a time.
class LinkEvents {
 public:
  static absl::StatusOr<std::unique_ptr<LinkEvents>> Open();
  ~LinkEvents();
  LinkEvents(const LinkEvents&) = delete;
  LinkEvents& operator=(const LinkEvents&) = delete;

  // Readable (POLLIN) when notifications are pending; non-blocking.
  int fd() const;
  // Reads every pending notification without blocking and returns the names of the links
  // they announced (new, changed, renamed to, deleted), once each, in arrival order. Callers
  // re-read the state they care about; a fresh namespace may still announce `lo` late (the
  // kernel's linkwatch reports its operstate asynchronously).
  std::vector<std::string> Drain();

 private:
  struct Impl;
  explicit LinkEvents(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Returns OK once a link named `name` exists in the calling thread's network namespace
// (run it on a NetnsThread), kDeadlineExceeded after `timeout`, or the netlink error.
absl::Status WaitForLink(const std::string& name, absl::Duration timeout);

// The general form: OK once `ready()` returns true. It is evaluated first, after every link
// notification in the calling thread's namespace, and at least every `recheck` for conditions
// that also depend on something netlink does not announce (Multus writing the network-status
// once the CNI ADD has returned). An error from `ready()` ends the wait with that error;
// kDeadlineExceeded after `timeout` names `what`.
absl::Status WaitForLinkCondition(const std::string& what,
                                  absl::FunctionRef<absl::StatusOr<bool>()> ready,
                                  absl::Duration timeout,
                                  absl::Duration recheck = absl::InfiniteDuration());

}  // namespace k6t::binding
