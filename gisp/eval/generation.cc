#include "gisp/eval/generation.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/ascii.h"
#include "gisp/base/status.h"
#include "gisp/model/decoder.h"

namespace gisp {

absl::StatusOr<Generation> GenerateGreedy(LlamaModel* model, const Tokenizer& tokenizer,
                                          const std::string& prompt,
                                          const GenerationOptions& options) {
  GISP_ASSIGN_OR_RETURN(std::vector<int32_t> ids, tokenizer.Encode(prompt, true));
  GISP_CHECK_ARG(!ids.empty(), "generation: the prompt has no tokens");
  KvCacheDecoder decoder(model);
  Generation gen;
  GISP_ASSIGN_OR_RETURN(Tensor logits, decoder.Append(ids));
  const int64_t limit =
      std::min<int64_t>(options.max_new_tokens,
                        model->config().max_position_embeddings - static_cast<int64_t>(ids.size()));
  for (int64_t i = 0; i < limit; ++i) {
    const float* l = logits.f32();
    const int32_t next =
        static_cast<int32_t>(std::max_element(l, l + logits.numel()) - l);  // first max on ties
    if (next == tokenizer.eos_id()) break;
    gen.ids.push_back(next);
    GISP_ASSIGN_OR_RETURN(gen.text, tokenizer.Decode(gen.ids, true));
    bool stop = false;
    for (const std::string& s : options.stop) {
      const size_t at = gen.text.find(s);
      if (!s.empty() && at != std::string::npos) {
        gen.text.resize(at);
        stop = true;
      }
    }
    if (stop || i + 1 == limit) break;
    GISP_ASSIGN_OR_RETURN(logits, decoder.Append({next}));
  }
  return gen;
}

std::string ExtractGsm8kAnswer(const std::string& solution) {
  const size_t at = solution.rfind("####");
  if (at == std::string::npos) return "";
  return std::string(absl::StripAsciiWhitespace(solution.substr(at + 4)));
}

std::string NormalizeNumber(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    // A comma between digits is a thousands separator.
    if (s[i] == ',' && i > 0 && i + 1 < s.size() &&
        std::isdigit(static_cast<unsigned char>(s[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      continue;
    }
    out.push_back(s[i]);
  }
  // Drop ".0", ".00" after a number when not followed by more digits.
  std::string result;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '.' && i > 0 && std::isdigit(static_cast<unsigned char>(out[i - 1]))) {
      size_t j = i + 1;
      while (j < out.size() && out[j] == '0') ++j;
      if (j > i + 1 && (j == out.size() || !std::isdigit(static_cast<unsigned char>(out[j])))) {
        i = j - 1;
        continue;
      }
    }
    result.push_back(out[i]);
  }
  return result;
}

bool ExactMatch(const std::string& generated, const std::string& gold) {
  const std::string g = NormalizeNumber(std::string(absl::StripAsciiWhitespace(gold)));
  if (g.empty()) return false;
  return NormalizeNumber(generated).find(g) != std::string::npos;
}

}  // namespace gisp
