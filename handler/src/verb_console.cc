// `k6t-handler console`: the terminal attached to the VM's serial console, as `virtctl
// console` does: raw mode, ^] to leave, and a new session ends the one before it.
//
// The launcher's libvirt binds the console socket (k6t/api/rpc.h, kSerialConsoleSocket) and
// QEMU serves one client at a time, so a second client would wait silently. Sessions
// therefore take <state dir>/serial0.lock (flock) and write their pid in it; a new session
// sends SIGTERM to the pid it finds there and takes the lock once that session has left.
#include "verb_console.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "args.h"
#include "k6t/api/errno_status.h"
#include "k6t/api/rpc.h"
#include "k6t/rpc/unix_stream.h"
#include "state_socket_args.h"
#include "verb_network.h"
#include "verbs.h"

namespace k6t::handler {
namespace {

constexpr char kEscape = 0x1d;  // ^]
constexpr absl::Duration kTakeoverWait = absl::Seconds(5);

// Takes the session lock, ending the session that holds it. Returns the lock's fd.
absl::StatusOr<int> TakeSession(const std::string& lock_path) {
  const int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return api::ErrnoStatus("open " + lock_path, errno);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    int64_t pid = 0;
    if (pread(fd, buf, sizeof(buf) - 1, 0) > 0 &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(buf), &pid) && pid > 1 &&
        kill(static_cast<pid_t>(pid), SIGTERM) == 0)
      std::fprintf(stderr, "k6t-handler console: ending the previous session (pid %lld)\r\n",
                   static_cast<long long>(pid));
    const absl::Time deadline = absl::Now() + kTakeoverWait;
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (absl::Now() > deadline) {
        close(fd);
        return absl::UnavailableError("the previous console session does not let go of " +
                                      lock_path);
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  const std::string me = absl::StrCat(getpid(), "\n");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, me.data(), me.size(), 0) < 0) {
    const int err = errno;
    close(fd);
    return api::ErrnoStatus("write " + lock_path, err);
  }
  return fd;
}

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Why a session ended.
enum class End { kEscape, kSignal, kConsoleClosed, kError };

// Copies bytes both ways until ^] (on a terminal), a signal, or the console closing. Input
// that ends (a pipe) stops being read; the console keeps being shown.
End Pump(int console, int signals, bool tty) {
  char buf[4096];
  bool input_open = true;
  while (true) {
    pollfd fds[3] = {{console, POLLIN, 0}, {signals, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    if (poll(fds, input_open ? 3 : 2, -1) < 0) {
      if (errno == EINTR) continue;
      return End::kError;
    }
    if (fds[1].revents) return End::kSignal;
    if (fds[0].revents) {
      const ssize_t n = read(console, buf, sizeof(buf));
      if (n <= 0) return End::kConsoleClosed;
      if (!WriteAll(STDOUT_FILENO, buf, static_cast<size_t>(n))) return End::kError;
    }
    if (input_open && fds[2].revents) {
      const ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
      if (n <= 0) {
        input_open = false;
        continue;
      }
      const char* esc = tty ? static_cast<const char*>(std::memchr(buf, kEscape, n)) : nullptr;
      const size_t forward = esc ? static_cast<size_t>(esc - buf) : static_cast<size_t>(n);
      if (forward > 0 && !WriteAll(console, buf, forward)) return End::kConsoleClosed;
      if (esc) return End::kEscape;
    }
  }
}

}  // namespace

int RunConsole(int argc, char** argv) {
  ArgParser parser("k6t-handler", "console", "",
                   "Attaches this terminal to the VM's serial console (the launcher's\n"
                   "<state dir>/serial0.sock; everything the guest printed is also in\n"
                   "<state dir>/serial.log). Press ^] to leave. A new session ends the previous\n"
                   "one. Not a terminal: the input is sent as is and the output shown until the\n"
                   "console closes or a signal arrives.");
  const StateSocketArgs args =
      ParseStateSocketArgs(parser, argc, argv, api::rpc::kSerialConsoleSocket);
  if (args.exit_now) return *args.exit_now;
  const std::string& socket_path = args.path;
  const std::string lock_path = socket_path.substr(0, socket_path.rfind(".sock")) + ".lock";

  // SIGTERM (a newer session), SIGINT, SIGHUP: read from a signalfd, so the terminal is
  // always restored on the way out.
  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&sigs, s);
  sigprocmask(SIG_BLOCK, &sigs, nullptr);
  const int signals = signalfd(-1, &sigs, SFD_CLOEXEC);
  if (signals < 0) return Fail("console", api::ErrnoStatus("signalfd", errno));
  absl::Cleanup close_signals = [signals] { close(signals); };

  auto lock = TakeSession(lock_path);
  if (!lock.ok())
    return Fail("console", absl::Status(lock.status().code(),
                                        absl::StrCat(lock.status().message(),
                                                     " (is the launcher's --state-dir right?)")));
  absl::Cleanup release = [fd = *lock] { close(fd); };
  auto console = rpc::ConnectUnixStream(socket_path);
  if (!console.ok())
    return Fail("console",
                absl::Status(console.status().code(),
                             absl::StrCat(console.status().message(),
                                          " (is the VM running? its launcher's --state-dir?)")));
  absl::Cleanup close_console = [fd = *console] { close(fd); };

  const bool tty = isatty(STDIN_FILENO);
  termios saved{};
  if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
    termios raw = saved;
    cfmakeraw(&raw);
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
  }
  std::fprintf(stderr, "Connected to the serial console %s.%s\r\n", socket_path.c_str(),
               tty ? " The escape sequence is ^]" : "");
  const End end = Pump(*console, signals, tty);
  if (tty) tcsetattr(STDIN_FILENO, TCSANOW, &saved);

  switch (end) {
    case End::kEscape:
      std::fprintf(stderr, "\nk6t-handler console: left\n");
      return kExitOk;
    case End::kSignal:
      std::fprintf(stderr, "\nk6t-handler console: session ended (a signal, or a newer session)\n");
      return kExitOk;
    case End::kConsoleClosed:
      std::fprintf(stderr, "\nk6t-handler console: the console closed (the VM stopped?)\n");
      return kExitOk;
    case End::kError:
      break;
  }
  return Fail("console", api::ErrnoStatus("console I/O", errno));
}

}  // namespace k6t::handler
