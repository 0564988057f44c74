#include "k6t/binding/executor.h"

#include <signal.h>

#include <cstdlib>
#include <span>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "executor/op_applier.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace k6t::binding {
namespace {

// Where a failed rollback's RollbackFailures ride on the status: a JSON array of
// {"step", "error"}.
constexpr char kRollbackPayload[] = "type.k6t.io/k6t.binding.RollbackFailures";

// One past the last operation of the run that starts at `i` and that is applied as one link
// change: a rename or attribute operation followed by attribute operations on the same link
// (the bridge binding's "rename, MAC, master, up, learning"). A run never spans a
// fault-injection point, so failing or crashing at operation N still finds 0..N-1 done;
// teardown (best effort) keeps every operation on its own, so one that fails holds back none.
size_t RunEnd(const std::vector<Operation>& ops, size_t i, ApplyMode mode,
              const ExecutorOptions& opt) {
  const std::string* link = RunLink(ops[i]);
  if (!link || mode != ApplyMode::kTransactional || static_cast<int>(i) == opt.fail_at_op)
    return i + 1;
  size_t j = i + 1;
  while (j < ops.size()) {
    const int n = static_cast<int>(j);
    const std::string* next = AttributeLink(ops[j]);
    if (n == opt.fail_at_op || n == opt.crash_after_ops || !next || *next != *link) break;
    ++j;
  }
  return j;
}

// Undoes `undo` in reverse; returns the steps that failed.
std::vector<RollbackFailure> RollBack(const UndoLog& undo) {
  std::vector<RollbackFailure> failed;
  for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
    if (absl::Status st = it->run(); !st.ok()) {
      spdlog::error("rollback step failed: {}: {}", it->what, st.ToString());
      failed.push_back({it->what, std::string(st.message())});
    }
  }
  return failed;
}

// `st` with what the rollback could not undo: in its message and as a payload.
absl::Status WithRollbackFailures(const absl::Status& st,
                                  const std::vector<RollbackFailure>& failed, size_t steps) {
  std::vector<std::string> lines;
  nlohmann::json j = nlohmann::json::array();
  for (const auto& f : failed) {
    lines.push_back(absl::StrCat(f.step, " (", f.error, ")"));
    j.push_back({{"step", f.step}, {"error", f.error}});
  }
  absl::Status out(
      st.code(), absl::StrCat(st.message(),
                              "; rollback incomplete, the namespace is not clean: ", failed.size(),
                              " of ", steps, " undo step(s) failed: ", absl::StrJoin(lines, "; ")));
  out.SetPayload(kRollbackPayload, absl::Cord(j.dump()));
  return out;
}

int EnvInt(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return -1;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  return (end && *end == '\0' && n >= 0 && n < (1 << 20)) ? static_cast<int>(n) : -1;
}

}  // namespace

std::vector<RollbackFailure> RollbackFailures(const absl::Status& status) {
  std::vector<RollbackFailure> out;
  auto payload = status.GetPayload(kRollbackPayload);
  if (!payload) return out;
  auto j = nlohmann::json::parse(std::string(*payload), nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return out;
  for (const auto& e : j)
    if (e.is_object()) out.push_back({e.value("step", ""), e.value("error", "")});
  return out;
}

absl::Status WithContext(const absl::Status& status, const std::string& context) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(context, ": ", status.message()));
  status.ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

Executor::Executor(Kernel kernel, ExecutorOptions options) : kernel_(kernel), options_(options) {}

ExecutorOptions Executor::OptionsFromEnvironment() {
  ExecutorOptions o;
  o.fail_at_op = EnvInt("K6T_FAULT_FAIL_AT_OP");
  o.crash_after_ops = EnvInt("K6T_FAULT_CRASH_AFTER_OPS");
  return o;
}

absl::StatusOr<ApplyReport> Executor::Apply(const std::vector<Operation>& ops, ApplyMode mode) {
  const absl::Time start = absl::Now();
  ApplyReport report;
  UndoLog undo;
  OpApplier applier(kernel_, undo);
  absl::Status first_error;
  std::vector<char> changed;
  for (size_t i = 0; i < ops.size();) {
    const int n = static_cast<int>(i);
    if (n == options_.crash_after_ops) {
      spdlog::warn("fault injection: SIGKILL after {} operations", n);
      ::raise(SIGKILL);
    }
    const size_t end = RunEnd(ops, i, mode, options_);
    const std::span<const Operation> run(&ops[i], end - i);
    changed.assign(run.size(), 0);
    const absl::Status st = n == options_.fail_at_op
                                ? absl::InternalError("fault injection (K6T_FAULT_FAIL_AT_OP)")
                                : applier.Apply(run, changed);
    std::string what;
    for (size_t k = 0; k < run.size(); ++k) {
      const std::string d = Describe(run[k]);
      absl::StrAppend(&what, k > 0 ? "; " : "", d);
      ++report.operations;
      if (changed[k]) {
        ++report.changed;
        report.changes.push_back(d);
      }
      spdlog::debug("op {} {}: {}{}", i + k, d, st.ok() ? "ok" : st.ToString(),
                    changed[k] ? " (changed)" : "");
    }
    const std::string where = run.size() > 1 ? absl::StrCat("operation ", n, "..", end - 1)
                                             : absl::StrCat("operation ", n);
    i = end;
    if (st.ok()) continue;
    const absl::Status failed = WithContext(st, absl::StrCat(where, " (", what, ")"));
    if (mode == ApplyMode::kBestEffort) {
      spdlog::warn("{}", std::string(failed.message()));
      if (first_error.ok()) first_error = failed;
      continue;
    }
    spdlog::warn("{}; rolling back {} change(s)", std::string(failed.message()), undo.size());
    const std::vector<RollbackFailure> left = RollBack(undo);
    if (left.empty()) return failed;
    return WithRollbackFailures(failed, left, undo.size());
  }
  if (options_.crash_after_ops >= 0 &&
      static_cast<size_t>(options_.crash_after_ops) == ops.size()) {
    ::raise(SIGKILL);
  }
  report.elapsed = absl::Now() - start;
  if (!first_error.ok()) return first_error;
  return report;
}

}  // namespace k6t::binding
