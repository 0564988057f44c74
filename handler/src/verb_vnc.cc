// `k6t-handler vnc`: where the VM's display is and how to reach it. The launcher's libvirt
// serves VNC on a unix socket in the state dir (k6t/api/rpc.h, kVncSocket): no TCP port is
// opened in the pod. The verb checks that a VNC server answers there (the RFB banner) and
// prints how to connect, as `virtctl vnc --proxy-only` leaves the viewer to the user.
#include "verb_vnc.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "args.h"
#include "k6t/api/errno_status.h"
#include "k6t/api/rpc.h"
#include "k6t/rpc/unix_stream.h"
#include "state_socket_args.h"
#include "verb_network.h"
#include "verbs.h"

namespace k6t::handler {
namespace {

// The server's protocol version line ("RFB 003.008"), read within 5 s.
absl::StatusOr<std::string> RfbBanner(const std::string& path) {
  auto fd = rpc::ConnectUnixStream(path);
  if (!fd.ok())
    return absl::Status(
        fd.status().code(),
        absl::StrCat(fd.status().message(), " (is the VM running with a graphics device?)"));
  const timeval five{5, 0};
  setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof(five));
  char buf[12];
  size_t got = 0;
  while (got < sizeof(buf)) {
    const ssize_t n = read(*fd, buf + got, sizeof(buf) - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(*fd);
  const std::string banner(buf, got);
  if (got < sizeof(buf) || banner.rfind("RFB ", 0) != 0)
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": no VNC server answers there (read ", got, " bytes)"));
  return std::string(absl::StripSuffix(banner, "\n"));
}

}  // namespace

int RunVnc(int argc, char** argv) {
  ArgParser parser("k6t-handler", "vnc", "",
                   "Checks that the VM's VNC server answers on the launcher's\n"
                   "<state dir>/vnc/vnc.sock and prints how to connect a viewer to it.");
  const StateSocketArgs args = ParseStateSocketArgs(parser, argc, argv, api::rpc::kVncSocket);
  if (args.exit_now) return *args.exit_now;
  const std::string& path = args.path;
  auto banner = RfbBanner(path);
  if (!banner.ok()) return Fail("vnc", banner.status());
  std::printf(
      "VNC server (%s) on the unix socket %s\n"
      "Connect a viewer that takes a unix socket:\n"
      "  vncviewer %s                  (TigerVNC)\n"
      "  remote-viewer 'vnc+unix://%s'  (virt-viewer)\n"
      "or expose it on this host's loopback and point any viewer at 127.0.0.1:5900:\n"
      "  socat TCP-LISTEN:5900,bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:%s\n",
      banner->c_str(), path.c_str(), path.c_str(), path.c_str(), path.c_str());
  return kExitOk;
}

}  // namespace k6t::handler
