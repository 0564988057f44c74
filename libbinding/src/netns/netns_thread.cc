// A thread that entered a network namespace once and runs closures there, in order.
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "k6t/api/errno_status.h"
#include "k6t/binding/netns.h"
#include "spdlog/spdlog.h"

namespace k6t::binding {

struct NetnsThread::Impl {
  struct Task {
    std::function<absl::Status()> fn;
    absl::Status result;
    bool done = false;
  };

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Task*> queue;
  bool stop = false;
  std::thread thread;
  std::thread::id id;

  // Runs on the namespace thread.
  void Loop() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return stop || !queue.empty(); });
      if (queue.empty()) return;  // stop requested and nothing left
      Task* t = queue.front();
      queue.pop_front();
      lock.unlock();
      absl::Status st = t->fn();
      lock.lock();
      t->result = std::move(st);
      t->done = true;
      cv.notify_all();
    }
  }
};

absl::StatusOr<std::unique_ptr<NetnsThread>> NetnsThread::Enter(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return api::ErrnoStatus(absl::StrCat("open netns ", path), errno);
  // A regular file or another kind of namespace would only fail later inside setns(): say
  // what is wrong up front.
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) {
    int e = errno;
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat("netns ", path, " is not a network namespace",
                     type < 0 ? absl::StrCat(" (", api::ErrnoText(e), ")") : ""));
  }

  auto impl = std::make_unique<Impl>();
  std::mutex start_mu;
  std::condition_variable start_cv;
  bool started = false;
  int setns_errno = 0;
  Impl* raw = impl.get();
  raw->thread = std::thread([raw, fd, &start_mu, &start_cv, &started, &setns_errno] {
    int err = setns(fd, CLONE_NEWNET) == 0 ? 0 : errno;
    {
      // Notify under the lock: Enter() owns these and may return as soon as it is released.
      std::lock_guard<std::mutex> lock(start_mu);
      setns_errno = err;
      started = true;
      start_cv.notify_all();
    }
    if (err == 0) raw->Loop();
  });
  {
    std::unique_lock<std::mutex> lock(start_mu);
    start_cv.wait(lock, [&] { return started; });
  }
  if (setns_errno != 0) {
    raw->thread.join();
    close(fd);
    return api::ErrnoStatus(absl::StrCat("enter netns ", path, ": setns"), setns_errno);
  }
  raw->id = raw->thread.get_id();
  spdlog::debug("netns: thread entered {}", path);
  return std::unique_ptr<NetnsThread>(new NetnsThread(path, fd, std::move(impl)));
}

NetnsThread::NetnsThread(std::string path, int fd, std::unique_ptr<Impl> impl)
    : path_(std::move(path)), fd_(fd), impl_(std::move(impl)) {}

NetnsThread::~NetnsThread() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
  close(fd_);
}

absl::Status NetnsThread::Run(std::function<absl::Status()> fn) {
  // Already on the namespace thread (a closure submitting another): queueing would deadlock.
  if (std::this_thread::get_id() == impl_->id) return fn();
  Impl::Task task{std::move(fn)};
  std::unique_lock<std::mutex> lock(impl_->mu);
  if (impl_->stop)
    return absl::FailedPreconditionError(absl::StrCat("netns thread for ", path_, " is stopping"));
  impl_->queue.push_back(&task);
  impl_->cv.notify_all();
  impl_->cv.wait(lock, [&] { return task.done; });
  return task.result;
}

}  // namespace k6t::binding
