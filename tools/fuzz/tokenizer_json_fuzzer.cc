// tokenizer.json (HF byte-level BPE): loaded, then used: encoding a fixed text and a piece of
// the input, and decoding what came out and some arbitrary ids.
#include <cstdint>
#include <string>

#include "gisp/io/tokenizer/tokenizer.h"
#include "tools/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = gisp_fuzz::WriteInput("tokenizer.json", data, size);
  auto tok = gisp::Tokenizer::LoadHfJson(path);
  if (!tok.ok()) {
    FUZZ_CHECK(tok.status().code() != absl::StatusCode::kInternal);
    return 0;
  }
  const std::string text = "In the beginning God created the heaven and the earth. 1234 \xc3\xa9";
  const std::string piece(reinterpret_cast<const char*>(data), size < 64 ? size : 64);
  for (const std::string& t : {text, piece}) {
    for (bool special : {false, true}) {
      auto ids = (*tok)->Encode(t, special);
      if (!ids.ok()) continue;
      for (int32_t id : *ids) FUZZ_CHECK(id >= 0 && id < (*tok)->vocab_size());
      (void)(*tok)->Decode(*ids, special);
    }
  }
  const int32_t odd[] = {0, 1, (*tok)->vocab_size() - 1, (*tok)->vocab_size(), -1};
  (void)(*tok)->Decode(odd, false);
  return 0;
}
