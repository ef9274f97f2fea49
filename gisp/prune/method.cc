#include "gisp/prune/method.h"

#include "gisp/base/enum_names.h"

namespace gisp {
namespace {

constexpr EnumName<Method> kMethodNames[] = {{Method::kGisp, "gisp"},
                                             {Method::kOneShot, "oneshot"},
                                             {Method::kWandaSp, "wanda-sp"},
                                             {Method::kFlap, "flap"},
                                             {Method::kLlmPruner, "llm-pruner"},
                                             {Method::kMagnitude, "magnitude"},
                                             {Method::kRandom, "random"}};

}  // namespace

const char* MethodName(Method method) { return NameOf(kMethodNames, method); }

absl::StatusOr<Method> ParseMethod(absl::string_view name) {
  return ParseName(kMethodNames, "method", name);
}

}  // namespace gisp
