// K6T_RETURN_IF_ERROR and K6T_ASSIGN_OR_RETURN in functions returning Status and StatusOr.
#include "k6t/api/status_macros.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace k6t::api {
namespace {

absl::Status Check(int x, int* evaluated) {
  ++*evaluated;
  return x < 0 ? absl::InvalidArgumentError("negative") : absl::OkStatus();
}

absl::StatusOr<int> Twice(int x) {
  if (x > 100) return absl::OutOfRangeError("too big");
  return 2 * x;
}

absl::Status Sum(int a, int b, int* out, int* evaluated) {
  K6T_RETURN_IF_ERROR(Check(a, evaluated));
  K6T_RETURN_IF_ERROR(Check(b, evaluated));
  K6T_ASSIGN_OR_RETURN(const int x, Twice(a));
  K6T_ASSIGN_OR_RETURN(*out, Twice(b));  // an existing lvalue
  *out += x;
  return absl::OkStatus();
}

absl::StatusOr<std::string> Describe(int a) {
  int evaluated = 0;
  K6T_RETURN_IF_ERROR(Check(a, &evaluated));
  K6T_ASSIGN_OR_RETURN(auto x, Twice(a));
  K6T_ASSIGN_OR_RETURN(auto y, Twice(x));  // two on neighbouring lines
  return std::to_string(y);
}

absl::StatusOr<std::unique_ptr<int>> Boxed(int x) {
  if (x == 0) return absl::NotFoundError("zero");
  return std::make_unique<int>(x);
}

absl::StatusOr<int> Unbox(int x) {
  K6T_ASSIGN_OR_RETURN(std::unique_ptr<int> p, Boxed(x));  // move-only values
  return *p;
}

TEST(StatusMacrosTest, PassesOkAndReturnsTheFirstError) {
  int out = 0, evaluated = 0;
  EXPECT_TRUE(Sum(3, 4, &out, &evaluated).ok());
  EXPECT_EQ(out, 14);
  EXPECT_EQ(evaluated, 2);  // each expression once

  evaluated = 0;
  absl::Status st = Sum(-1, 4, &out, &evaluated);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(evaluated, 1);  // returned before the second check

  evaluated = 0;
  EXPECT_EQ(Sum(101, 4, &out, &evaluated).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(evaluated, 2);
}

TEST(StatusMacrosTest, WorkInFunctionsReturningStatusOr) {
  EXPECT_EQ(*Describe(5), "20");
  EXPECT_EQ(Describe(-5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Describe(60).status().code(), absl::StatusCode::kOutOfRange);  // the second call
  EXPECT_EQ(*Unbox(7), 7);
  EXPECT_EQ(Unbox(0).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace k6t::api
