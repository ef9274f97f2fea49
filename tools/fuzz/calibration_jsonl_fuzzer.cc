// Every calibration file form, read with the embedded tiny model's tokenizer: text windows from
// JSONL {"text"} and from plain text, question/answer JSONL, multiple-choice JSONL (read, made
// into candidates, within the example limit).
#include <cstdint>
#include <string>

#include "gisp/data/calibration_sources.h"
#include "gisp/io/tokenizer/tokenizer.h"
#include "tools/fuzz/fuzz_util.h"

namespace {

const gisp::Tokenizer& Tok() {
  static const gisp::Tokenizer* tok = [] {
    auto t = gisp::Tokenizer::Load("testdata/tiny/model");
    if (!t.ok()) {
      std::fprintf(stderr, "run from the repository root: %s\n",
                   std::string(t.status().message()).c_str());
      std::abort();
    }
    return t->release();
  }();
  return *tok;
}

void CheckSequences(const std::vector<gisp::LabelledSequence>& seqs, int64_t max_tokens) {
  for (const auto& s : seqs) {
    FUZZ_CHECK(static_cast<int64_t>(s.tokens.size()) <= max_tokens);
    FUZZ_CHECK(s.targets.size() == s.tokens.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const gisp::Tokenizer& tok = Tok();
  const std::string jsonl = gisp_fuzz::WriteInput("calib.jsonl", data, size);
  const std::string txt = gisp_fuzz::WriteInput("calib.txt", data, size);
  gisp::TextWindowOptions windows;
  windows.window_tokens = 8;
  windows.count = 4;
  for (const std::string& path : {jsonl, txt}) {
    auto w = gisp::TextWindows(path, tok, windows);
    if (w.ok()) CheckSequences(*w, 8);
  }
  gisp::QaOptions qa;
  qa.limit = 8;
  qa.max_tokens = 256;
  auto pairs = gisp::QaPairs(jsonl, tok, qa);
  if (pairs.ok()) CheckSequences(*pairs, 256);
  auto items = gisp::ReadMultipleChoiceJsonl(jsonl, 8);
  if (items.ok()) {
    auto candidates = gisp::MultipleChoiceCandidates(*items, tok, 256);
    if (candidates.ok()) CheckSequences(*candidates, 256);
  }
  return 0;
}
