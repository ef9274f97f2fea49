// tokenizer_config.json next to a fixed tokenizer.json (testdata/tokenizers/llama3_bpe cut to its
// first 320 tokens, tools/fuzz/seeds/tokenizer_json_fuzzer/small_llama3_bpe.json: the full file
// was parsed again for every input and took most of the time): read alone, then through
// Tokenizer::Load, which applies it (bos/eos names, add_*_token).
#include <cstdint>
#include <string>

#include "gisp/base/file.h"
#include "gisp/io/tokenizer/tokenizer.h"
#include "gisp/io/tokenizer/tokenizer_config.h"
#include "tools/fuzz/fuzz_util.h"

namespace {

const std::string& Dir() {
  static const std::string* dir = [] {
    auto json = gisp::ReadFile("tools/fuzz/seeds/tokenizer_json_fuzzer/small_llama3_bpe.json");
    if (!json.ok()) {
      std::fprintf(stderr, "run from the repository root: %s\n",
                   std::string(json.status().message()).c_str());
      std::abort();
    }
    gisp_fuzz::WriteInput("tokenizer.json", reinterpret_cast<const uint8_t*>(json->data()),
                          json->size());
    return new std::string(gisp_fuzz::ScratchDir());
  }();
  return *dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& dir = Dir();
  gisp_fuzz::WriteInput("tokenizer_config.json", data, size);
  auto config = gisp::ReadTokenizerConfig(dir);
  if (!config.ok()) FUZZ_CHECK(config.status().code() != absl::StatusCode::kInternal);
  auto tok = gisp::Tokenizer::Load(dir);
  if (!tok.ok()) {
    FUZZ_CHECK(tok.status().code() != absl::StatusCode::kInternal);
    return 0;
  }
  auto ids = (*tok)->Encode("And God said, Let there be light", true);
  if (ids.ok()) {
    for (int32_t id : *ids) FUZZ_CHECK(id >= 0 && id < (*tok)->vocab_size());
    (void)(*tok)->Decode(*ids, true);
  }
  return 0;
}
