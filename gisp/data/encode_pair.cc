#include "gisp/data/encode_pair.h"

#include "absl/strings/str_cat.h"
#include "gisp/base/status.h"

namespace gisp {

absl::StatusOr<EncodedPair> EncodePair(const Tokenizer& tokenizer, absl::string_view context,
                                       absl::string_view continuation) {
  std::string ctx(context);
  std::string cont(continuation);
  const size_t keep = ctx.find_last_not_of(' ');
  const size_t trailing = keep == std::string::npos ? ctx.size() : ctx.size() - keep - 1;
  if (trailing > 0) {
    cont = ctx.substr(ctx.size() - trailing) + cont;
    ctx.resize(ctx.size() - trailing);
  }
  GISP_ASSIGN_OR_RETURN(std::vector<int32_t> whole, tokenizer.Encode(ctx + cont, true));
  GISP_ASSIGN_OR_RETURN(std::vector<int32_t> ctx_ids, tokenizer.Encode(ctx, true));
  size_t split = ctx_ids.size();
  if (split > whole.size()) split = whole.size();
  EncodedPair out;
  out.context.assign(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(split));
  out.continuation.assign(whole.begin() + static_cast<std::ptrdiff_t>(split), whole.end());
  if (out.continuation.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the continuation \"", continuation, "\" produced no tokens after context"));
  }
  return out;
}

}  // namespace gisp
