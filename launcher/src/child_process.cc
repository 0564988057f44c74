#include "child_process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace k6t::launcher {
namespace {

// Only async-signal-safe calls between fork and exec: the launcher is multi-threaded.
[[noreturn]] void ChildFail(int status_fd, int step) {
  int e = errno;
  int msg[2] = {step, e};
  (void)!write(status_fd, msg, sizeof(msg));
  _exit(127);
}

const char* StepName(int step) {
  switch (step) {
    case 1:
      return "open log file";
    case 2:
      return "unshare(CLONE_NEWNS)";
    case 3:
      return "make mounts private";
    case 4:
      return "bind mount";
    case 5:
      return "execve";
    case 6:
      return "prctl(PR_SET_PDEATHSIG)";
    case 7:
      return "clear FD_CLOEXEC of an inherited descriptor";
    default:
      return "setup";
  }
}

}  // namespace

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited ", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return absl::StrCat("killed by signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)),
                        ")");
  return absl::StrCat("wait status ", status);
}

absl::StatusOr<ChildProcess> ChildProcess::Spawn(const SpawnOptions& o) {
  if (o.argv.empty()) return absl::InvalidArgumentError("spawn: empty argv");
  // Everything the child needs is built before fork.
  std::vector<char*> argv;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : o.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  char* const* env = o.env.empty() ? environ : envp.data();
  const char* log = o.log_file.empty() ? "/dev/null" : o.log_file.c_str();

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0)
    return absl::InternalError(absl::StrCat("spawn ", o.argv[0], ": pipe: ", strerror(errno)));
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(pipefd[0]);
    close(pipefd[1]);
    return absl::InternalError(absl::StrCat("spawn ", o.argv[0], ": fork: ", strerror(e)));
  }
  if (pid == 0) {
    close(pipefd[0]);
    if (o.parent_death_signal) {
      if (prctl(PR_SET_PDEATHSIG, o.parent_death_signal) != 0) ChildFail(pipefd[1], 6);
      if (getppid() != parent) _exit(0);  // the parent died before prctl
    }
    // Signals the launcher blocks (it waits for SIGTERM with sigtimedwait) must not stay
    // blocked in the daemon.
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) ChildFail(pipefd[1], 1);
    dup2(fd, 1);
    dup2(fd, 2);
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    setsid();
    for (int keep : o.inherit_fds)
      if (fcntl(keep, F_SETFD, 0) != 0) ChildFail(pipefd[1], 7);
    if (!o.bind_mounts.empty()) {
      if (unshare(CLONE_NEWNS) != 0) ChildFail(pipefd[1], 2);
      if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ChildFail(pipefd[1], 3);
      for (const auto& [src, dst] : o.bind_mounts)
        if (mount(src.c_str(), dst.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
          ChildFail(pipefd[1], 4);
    }
    execve(argv[0], argv.data(), env);
    ChildFail(pipefd[1], 5);
  }
  close(pipefd[1]);
  int msg[2] = {0, 0};
  ssize_t n;
  do {
    n = read(pipefd[0], msg, sizeof(msg));
  } while (n < 0 && errno == EINTR);
  close(pipefd[0]);
  ChildProcess child;
  child.pid_ = pid;
  if (n == static_cast<ssize_t>(sizeof(msg))) {
    child.Wait(absl::Seconds(5));
    return absl::InternalError(
        absl::StrCat("spawn ", o.argv[0], ": ", StepName(msg[0]), ": ", strerror(msg[1])));
  }
  return child;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
  if (this != &o) {
    if (running()) Stop(absl::ZeroDuration());
    pid_ = o.pid_;
    exit_status_ = o.exit_status_;
    o.pid_ = -1;
    o.exit_status_.reset();
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (running()) Stop(absl::ZeroDuration());
}

std::optional<int> ChildProcess::Poll() {
  if (exit_status_ || pid_ <= 0) return exit_status_;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) exit_status_ = status;
  if (r < 0 && errno == ECHILD) exit_status_ = 0;  // reaped elsewhere
  return exit_status_;
}

std::optional<int> ChildProcess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (auto s = Poll()) return s;
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

int ChildProcess::Stop(absl::Duration grace) {
  if (pid_ <= 0) return 0;
  if (!Poll()) {
    if (grace > absl::ZeroDuration()) {
      kill(pid_, SIGTERM);
      Wait(grace);
    }
    if (!Poll()) {
      kill(pid_, SIGKILL);
      Wait(absl::Seconds(10));
    }
  }
  return exit_status_.value_or(-1);
}

}  // namespace k6t::launcher
