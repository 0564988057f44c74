// Dispatch: what the server does with one request frame. Parse errors, unknown methods, bad
// Ping params and a full queue are answered at once; Ping is answered at once; every other
// request is queued for the worker pool, whose answers come back through `deliver` (called on
// the worker thread). Methods registered `exclusive` never run two at a time.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "k6t/rpc/server.h"

namespace k6t::rpc {

class Dispatcher {
 public:
  // The response payload (unframed) for connection `conn_id`.
  using Deliver = std::function<void(uint64_t conn_id, std::string payload)>;

  Dispatcher(const ServerOptions& options, Deliver deliver);
  ~Dispatcher();  // Stop()

  void Register(std::string method, MethodHandler handler, MethodOptions options);

  void Start(int workers);
  // Drops the requests not started yet and joins the workers (running methods finish first).
  void Stop();
  bool IsWorker(std::thread::id id) const;

  struct Outcome {
    std::optional<std::string> answer;  // answered now; unset: queued, answered via deliver
    bool malformed = false;             // counts as a malformed frame
  };
  Outcome Handle(uint64_t conn_id, const std::string& frame);

 private:
  struct Method {
    MethodHandler handler;
    MethodOptions options;
  };
  struct Task {
    uint64_t conn_id = 0;
    std::string id_json;
    std::string method;
    std::string params_json;
    MethodHandler handler;
    bool exclusive = false;
  };

  std::deque<Task>::iterator Runnable();
  void WorkerLoop();
  std::string Response(const std::string& id_json, const absl::StatusOr<std::string>& r) const;

  const ServerOptions& options_;
  Deliver deliver_;

  mutable std::mutex methods_mu_;
  std::unordered_map<std::string, Method> methods_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Task> queue_;
  std::set<std::string> running_exclusive_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::vector<std::thread::id> worker_ids_;
};

}  // namespace k6t::rpc
