// libvirt's default event loop on its own thread. Registered once per process, before the
// first connection is opened: lifecycle events, keepalive and the embedded driver
// (qemu:///embed) all need it.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace k6t::launcher {

// Registers the default implementation and starts the loop thread (idempotent). Also routes
// libvirt's error printing to spdlog (debug) instead of stderr.
absl::Status EnsureLibvirtEventLoop();

// Stops and joins the loop thread; call before exit, after every connection is closed.
void StopLibvirtEventLoop();

// The calling thread's last libvirt error, for messages ("unknown error" when none).
std::string LastLibvirtError();

}  // namespace k6t::launcher
