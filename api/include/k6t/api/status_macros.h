// The early-return rule of the whole tree, as two macros.
//
//   K6T_RETURN_IF_ERROR(kernel.netlink->AddAddress(index, cidr));
//   K6T_ASSIGN_OR_RETURN(auto link, kernel.netlink->GetLink(name));
//   K6T_ASSIGN_OR_RETURN(plan.mtu, PickMtu(in));          // assigns an existing lvalue
//
// The rule: a call whose failure is returned unchanged uses one of these two macros, never
// `if (auto s = f(); !s.ok()) return s;` or `if (!x.ok()) return x.status();` by hand.
// Where the caller adds context, or does something else on failure (logs, rolls back,
// maps the code), it writes the `if` itself, so that every hand-written `if` means more
// than "pass it on".
//
// Both work in functions returning absl::Status or absl::StatusOr<T>. The expression is
// evaluated once. Errors: none of their own. Thread-safety and privileges: those of `expr`.
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// `expr` is an absl::Status; returns it when it is not OK.
#define K6T_RETURN_IF_ERROR(expr)                                 \
  do {                                                            \
    if (::absl::Status k6t_status_ = (expr); !k6t_status_.ok()) { \
      return k6t_status_;                                         \
    }                                                             \
  } while (false)

// `rexpr` is an absl::StatusOr<T>; returns its status when it is not OK, else moves its
// value into `lhs` (a declaration such as `auto x` or an existing lvalue).
#define K6T_ASSIGN_OR_RETURN(lhs, rexpr) \
  K6T_ASSIGN_OR_RETURN_IMPL_(K6T_STATUS_CONCAT_(k6t_statusor_, __LINE__), lhs, rexpr)

#define K6T_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  if (!statusor.ok()) {                                  \
    return std::move(statusor).status();                 \
  }                                                      \
  lhs = *std::move(statusor)

#define K6T_STATUS_CONCAT_INNER_(a, b) a##b
#define K6T_STATUS_CONCAT_(a, b) K6T_STATUS_CONCAT_INNER_(a, b)
