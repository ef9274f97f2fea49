// tokenizer.model (SentencePiece protobuf, parsed as spm_model.proto's ModelProto): parsed, then
// loaded as a tokenizer and used to encode and decode.
#include <cstdint>
#include <string>

#include "gisp/io/tokenizer/sentencepiece_model.h"
#include "gisp/io/tokenizer/tokenizer.h"
#include "tools/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto model = gisp::ParseSentencePieceModel(bytes, "tokenizer.model");
  if (!model.ok()) {
    FUZZ_CHECK(model.status().code() != absl::StatusCode::kInternal);
    return 0;
  }
  const std::string path = gisp_fuzz::WriteInput("tokenizer.model", data, size);
  auto tok = gisp::Tokenizer::LoadSentencePiece(path);
  if (!tok.ok()) {
    FUZZ_CHECK(tok.status().code() != absl::StatusCode::kInternal);
    return 0;
  }
  for (const char* text : {"In the beginning God created the heaven and the earth.", " a  b\n\t",
                           "\xe2\x96\x81x\xff"}) {
    auto ids = (*tok)->Encode(text, true);
    if (!ids.ok()) continue;
    for (int32_t id : *ids) FUZZ_CHECK(id >= 0 && id < (*tok)->vocab_size());
    (void)(*tok)->Decode(*ids, false);
  }
  return 0;
}
