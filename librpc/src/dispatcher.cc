#include "dispatcher.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace k6t::rpc {
namespace {

namespace msg = ::k6t::api::rpc;

// Method names come from the peer; keep log/error text printable and short.
std::string SanitizedMethod(const std::string& m) {
  std::string out;
  for (char ch : m.substr(0, 64)) out.push_back(ch >= 0x20 && ch < 0x7f && ch != '"' ? ch : '?');
  return out;
}

}  // namespace

Dispatcher::Dispatcher(const ServerOptions& options, Deliver deliver)
    : options_(options), deliver_(std::move(deliver)) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Register(std::string method, MethodHandler handler, MethodOptions options) {
  std::lock_guard<std::mutex> g(methods_mu_);
  methods_[std::move(method)] = Method{std::move(handler), options};
}

void Dispatcher::Start(int workers) {
  std::lock_guard<std::mutex> g(queue_mu_);
  stopping_ = false;
  for (int i = 0; i < workers; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
    worker_ids_.push_back(workers_.back().get_id());
  }
}

void Dispatcher::Stop() {
  {
    std::lock_guard<std::mutex> g(queue_mu_);
    stopping_ = true;
    queue_.clear();
  }
  queue_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

bool Dispatcher::IsWorker(std::thread::id id) const {
  return std::find(worker_ids_.begin(), worker_ids_.end(), id) != worker_ids_.end();
}

Dispatcher::Outcome Dispatcher::Handle(uint64_t conn_id, const std::string& frame) {
  msg::ParsedRequest parsed = msg::ParseRequest(frame);
  if (parsed.error) {
    spdlog::debug("command socket: client {}: bad request: {}", conn_id, parsed.error->message);
    return {msg::EncodeError(parsed.id_json, *parsed.error), true};
  }
  msg::Request& req = *parsed.request;
  if (req.method == msg::kMethodPing) {
    msg::Empty empty;
    if (auto s = msg::FromJson(req.params_json, &empty); !s.ok())
      return {msg::EncodeError(req.id_json, msg::StatusToError(s)), true};
    spdlog::trace("command socket: client {}: Ping", conn_id);
    return {msg::EncodeResult(req.id_json, msg::ToJson(msg::PingResult{options_.version})), false};
  }
  Method method;
  {
    std::lock_guard<std::mutex> g(methods_mu_);
    auto it = methods_.find(req.method);
    if (it == methods_.end()) {
      return {msg::EncodeError(req.id_json,
                               msg::MakeError(msg::ErrorCode::kMethodNotFound,
                                              absl::StrCat("method \"", SanitizedMethod(req.method),
                                                           "\" not found"))),
              true};
    }
    method = it->second;
  }
  {
    std::lock_guard<std::mutex> g(queue_mu_);
    if (queue_.size() >= options_.max_queued_requests) {
      return {msg::EncodeError(
                  req.id_json,
                  msg::MakeError(msg::ErrorCode::kBusy,
                                 absl::StrCat("server busy: ", queue_.size(), " requests queued"))),
              false};
    }
    queue_.push_back(Task{conn_id, req.id_json, req.method, std::move(req.params_json),
                          std::move(method.handler), method.options.exclusive});
  }
  queue_cv_.notify_one();
  return {};
}

std::deque<Dispatcher::Task>::iterator Dispatcher::Runnable() {
  return std::find_if(queue_.begin(), queue_.end(), [this](const Task& t) {
    return !t.exclusive || running_exclusive_.count(t.method) == 0;
  });
}

void Dispatcher::WorkerLoop() {
  std::unique_lock<std::mutex> lk(queue_mu_);
  while (true) {
    queue_cv_.wait(lk, [this] { return stopping_ || Runnable() != queue_.end(); });
    if (stopping_) return;
    auto it = Runnable();
    Task task = std::move(*it);
    queue_.erase(it);
    if (task.exclusive) running_exclusive_.insert(task.method);
    lk.unlock();

    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::string> result;
    try {
      result = task.handler(task.params_json);
    } catch (const std::exception& e) {
      result = absl::InternalError(absl::StrCat(task.method, ": unexpected exception: ", e.what()));
    } catch (...) {
      result = absl::InternalError(absl::StrCat(task.method, ": unexpected exception"));
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    if (result.ok()) {
      spdlog::debug("command socket: {} id={} ok in {} ms", task.method, task.id_json, ms);
    } else {
      spdlog::info("command socket: {} id={} failed in {} ms: {}", task.method, task.id_json, ms,
                   result.status().ToString());
    }
    deliver_(task.conn_id, Response(task.id_json, result));

    lk.lock();
    if (task.exclusive) {
      running_exclusive_.erase(task.method);
      queue_cv_.notify_all();
    }
  }
}

std::string Dispatcher::Response(const std::string& id_json,
                                 const absl::StatusOr<std::string>& r) const {
  std::string payload = r.ok() ? msg::EncodeResult(id_json, *r)
                               : msg::EncodeError(id_json, msg::StatusToError(r.status()));
  if (payload.size() > options_.max_frame_bytes) {
    auto e = msg::StatusToError(absl::ResourceExhaustedError(
        absl::StrCat("response of ", payload.size(), " bytes exceeds the frame limit of ",
                     options_.max_frame_bytes, " bytes")));
    payload = msg::EncodeError(id_json, e);
  }
  return payload;
}

}  // namespace k6t::rpc
