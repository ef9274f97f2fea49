#include "gisp/io/tokenizer/sentencepiece_tokenizer.h"

#include "absl/strings/str_cat.h"
#include "gisp/io/tokenizer/sp_processor.h"

namespace gisp {
namespace {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  SentencePieceTokenizer(std::unique_ptr<SpProcessor> sp,
                         SpecialTokenPolicy policy)
      : sp_(std::move(sp)), policy_(policy) {}

  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_special_tokens) const override {
    std::vector<int> ids;
    const std::string error = sp_->Encode(std::string(text), &ids);
    if (!error.empty()) return absl::InvalidArgumentError("SentencePiece encode: " + error);
    std::vector<int32_t> out;
    out.reserve(ids.size() + 2);
    if (add_special_tokens && policy_.add_bos && bos_id() >= 0) out.push_back(bos_id());
    out.insert(out.end(), ids.begin(), ids.end());
    if (add_special_tokens && policy_.add_eos && eos_id() >= 0) out.push_back(eos_id());
    return out;
  }

  absl::StatusOr<std::string> Decode(absl::Span<const int32_t> ids,
                                     bool skip_special_tokens) const override {
    std::vector<int> pieces;
    for (int32_t id : ids) {
      if (id < 0 || id >= vocab_size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("token id ", id, " is outside the vocabulary of ", vocab_size()));
      }
      // SentencePiece drops control tokens (BOS/EOS) when decoding; keep them visible unless
      // asked to skip, as HF's decode does.
      if (sp_->IsControl(id)) {
        if (!skip_special_tokens) pieces.push_back(-1 - id);
        continue;
      }
      pieces.push_back(id);
    }
    std::string out;
    std::vector<int> run;
    auto flush = [&]() -> absl::Status {
      if (run.empty()) return absl::OkStatus();
      std::string text;
      const std::string error = sp_->Decode(run, &text);
      if (!error.empty()) return absl::InvalidArgumentError("SentencePiece decode: " + error);
      out += text;
      run.clear();
      return absl::OkStatus();
    };
    for (int p : pieces) {
      if (p < 0) {
        absl::Status s = flush();
        if (!s.ok()) return s;
        out += sp_->IdToPiece(-1 - p);
      } else {
        run.push_back(p);
      }
    }
    absl::Status s = flush();
    if (!s.ok()) return s;
    return out;
  }

  int32_t vocab_size() const override { return sp_->PieceSize(); }
  int32_t bos_id() const override { return sp_->BosId(); }
  int32_t eos_id() const override { return sp_->EosId(); }
  std::string kind() const override { return "sentencepiece"; }

 private:
  std::unique_ptr<SpProcessor> sp_;
  SpecialTokenPolicy policy_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> NewSentencePieceTokenizer(
    const std::string& model_path, SpecialTokenPolicy policy) {
  auto sp = std::make_unique<SpProcessor>();
  const std::string error = sp->Load(model_path);
  if (!error.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(model_path, ": not a SentencePiece model: ", error));
  }
  return std::unique_ptr<Tokenizer>(new SentencePieceTokenizer(std::move(sp), policy));
}

}  // namespace gisp
