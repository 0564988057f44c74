#include "libvirt_event_loop.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace k6t::launcher {
namespace {

std::mutex g_mu;
std::thread g_thread;
std::atomic<bool> g_run{false};
bool g_registered = false;

void LogLibvirtError(void*, virErrorPtr err) {
  if (err && err->message) spdlog::debug("libvirt: {}", err->message);
}

void Wake(int timer, void*) { virEventRemoveTimeout(timer); }

}  // namespace

absl::Status EnsureLibvirtEventLoop() {
  std::lock_guard<std::mutex> l(g_mu);
  if (!g_registered) {
    virSetErrorFunc(nullptr, LogLibvirtError);
    if (virInitialize() < 0) return absl::InternalError("virInitialize failed");
    if (virEventRegisterDefaultImpl() < 0)
      return absl::InternalError(absl::StrCat("virEventRegisterDefaultImpl: ", LastLibvirtError()));
    g_registered = true;
  }
  if (!g_run) {
    g_run = true;
    g_thread = std::thread([] {
      while (g_run) {
        if (virEventRunDefaultImpl() < 0) {
          spdlog::error("libvirt event loop: {}", LastLibvirtError());
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    });
  }
  return absl::OkStatus();
}

void StopLibvirtEventLoop() {
  std::lock_guard<std::mutex> l(g_mu);
  if (!g_run) return;
  g_run = false;
  // A timer due now makes virEventRunDefaultImpl return so the thread sees g_run.
  virEventAddTimeout(0, Wake, nullptr, nullptr);
  if (g_thread.joinable()) g_thread.join();
}

std::string LastLibvirtError() {
  const char* m = virGetLastErrorMessage();
  return m ? m : "unknown error";
}

}  // namespace k6t::launcher
