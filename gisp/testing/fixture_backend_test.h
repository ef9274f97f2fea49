// A parameterized test over (fixture name, backend name) pairs: the shared shape of the parity
// tests that run one body on every backend. SetUp creates the backend or skips the case with the
// reason it is unavailable here (no CUDA build, no GPU).
#ifndef GISP_TESTING_FIXTURE_BACKEND_TEST_H_
#define GISP_TESTING_FIXTURE_BACKEND_TEST_H_

#include <memory>
#include <string>
#include <tuple>

#include "gisp/backend/backend.h"
#include "gisp/testing/backends.h"
#include "gtest/gtest.h"

namespace gisp {
namespace testing {

class FixtureBackendTest : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {
 protected:
  void SetUp() override {
    auto be = CreateTestBackend(std::get<1>(GetParam()));
    if (!be.ok())
      GTEST_SKIP() << std::get<1>(GetParam()) << " backend unavailable: " << be.status();
    backend_ = std::move(be).value();
  }
  std::string Fixture() const { return std::get<0>(GetParam()); }

  std::unique_ptr<Backend> backend_;
};

// Test names "<fixture>_<backend>".
inline std::string FixtureBackendName(
    const ::testing::TestParamInfo<std::tuple<std::string, std::string>>& info) {
  return std::get<0>(info.param) + "_" + std::get<1>(info.param);
}

}  // namespace testing
}  // namespace gisp

#endif  // GISP_TESTING_FIXTURE_BACKEND_TEST_H_
