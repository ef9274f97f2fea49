// A SentencePiece model file (the protobuf ModelProto in tokenizer.model), parsed with the message
// that spm_model.proto declares (gisp's own description of the fields it reads, compiled by
// protoc): gisp does not link libsentencepiece (see sentencepiece_tokenizer.h).
#ifndef GISP_IO_TOKENIZER_SENTENCEPIECE_MODEL_H_
#define GISP_IO_TOKENIZER_SENTENCEPIECE_MODEL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace gisp {

struct SentencePieceModel {
  enum PieceType {
    kNormal = 1,
    kUnknown = 2,
    kControl = 3,
    kUserDefined = 4,
    kUnused = 5,
    kByte = 6
  };
  enum ModelType { kUnigram = 1, kBpe = 2, kWord = 3, kChar = 4 };
  struct Piece {
    std::string text;
    float score = 0;
    int type = kNormal;
  };
  std::vector<Piece> pieces;
  // trainer_spec (protobuf defaults where the file is silent)
  int model_type = kUnigram;
  bool byte_fallback = false;
  bool treat_whitespace_as_suffix = false;
  std::string unk_surface = " \xE2\x81\x87 ";
  std::string unk_piece = "<unk>", bos_piece = "<s>", eos_piece = "</s>";
  // normalizer_spec
  std::string normalizer_name;
  bool has_precompiled_charsmap = false;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
  // denormalizer_spec with rules (not supported)
  bool has_denormalizer = false;
};

// Parses `data`, the contents of `path` (named in errors).
absl::StatusOr<SentencePieceModel> ParseSentencePieceModel(absl::string_view data,
                                                           const std::string& path);

}  // namespace gisp

#endif  // GISP_IO_TOKENIZER_SENTENCEPIECE_MODEL_H_
