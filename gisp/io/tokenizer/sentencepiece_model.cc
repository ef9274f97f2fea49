#include "gisp/io/tokenizer/sentencepiece_model.h"

#include <cstdint>
#include <limits>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gisp/io/tokenizer/spm_model.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/message.h"
#include "google/protobuf/wire_format_lite.h"

namespace gisp {
namespace {

namespace pb = google::protobuf;
using WireFormatLite = pb::internal::WireFormatLite;
using Piece = spm::ModelProto::SentencePiece;

static_assert(SentencePieceModel::kNormal == int{Piece::NORMAL} &&
                  SentencePieceModel::kUnknown == int{Piece::UNKNOWN} &&
                  SentencePieceModel::kControl == int{Piece::CONTROL} &&
                  SentencePieceModel::kUserDefined == int{Piece::USER_DEFINED} &&
                  SentencePieceModel::kUnused == int{Piece::UNUSED} &&
                  SentencePieceModel::kByte == int{Piece::BYTE},
              "piece types differ from spm_model.proto");
static_assert(SentencePieceModel::kUnigram == int{spm::TrainerSpec::UNIGRAM} &&
                  SentencePieceModel::kBpe == int{spm::TrainerSpec::BPE} &&
                  SentencePieceModel::kWord == int{spm::TrainerSpec::WORD} &&
                  SentencePieceModel::kChar == int{spm::TrainerSpec::CHAR},
              "model types differ from spm_model.proto");

// Where `data` (at byte `base` of the file) stops parsing as `prototype`'s message type: the first
// field that does not parse, as a path named by spm_model.proto ("pieces[3].score at byte 57"),
// or "" when none is found. Only called after the generated parser rejected the file; it walks
// the wire format with protobuf's own reader, field by field, and recurses only into the
// message-typed fields of spm_model.proto (two levels).
std::string FindMalformedField(const pb::Message& prototype, absl::string_view data, int base) {
  const pb::Descriptor* type = prototype.GetDescriptor();
  const int size = static_cast<int>(data.size());
  pb::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(data.data()), size);
  absl::flat_hash_map<int, int> occurrences;
  while (in.CurrentPosition() < size) {
    const int at = in.CurrentPosition();
    const uint32_t tag = in.ReadTag();
    const int number = WireFormatLite::GetTagFieldNumber(tag);
    const pb::FieldDescriptor* field = type->FindFieldByNumber(number);
    std::string name = field != nullptr ? field->name() : absl::StrCat("field ", number);
    if (field != nullptr && field->is_repeated()) {
      absl::StrAppend(&name, "[", occurrences[number]++, "]");
    }
    const std::string where = absl::StrCat(name, " at byte ", base + at);
    if (number == 0) return where;  // not a field number
    if (field == nullptr || field->type() != pb::FieldDescriptor::TYPE_MESSAGE ||
        WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormatLite::SkipField(&in, tag)) return where;
      continue;
    }
    int length = 0;
    if (!in.ReadVarintSizeAsInt(&length) || length > size - in.CurrentPosition()) {
      return where;
    }
    const int start = in.CurrentPosition();
    in.Skip(length);
    const absl::string_view bytes = data.substr(start, length);
    std::unique_ptr<pb::Message> sub(
        pb::MessageFactory::generated_factory()->GetPrototype(field->message_type())->New());
    if (!sub->ParseFromArray(bytes.data(), length)) {
      const std::string inner = FindMalformedField(*sub, bytes, base + start);
      return inner.empty() ? where : absl::StrCat(name, ".", inner);
    }
  }
  return "";
}

}  // namespace

absl::StatusOr<SentencePieceModel> ParseSentencePieceModel(absl::string_view data,
                                                           const std::string& path) {
  auto corrupt = [&](const std::string& what) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a SentencePiece model (", what, ")"));
  };
  if (data.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return corrupt(absl::StrCat(data.size(), " bytes, more than protobuf's limit of 2 GiB"));
  }
  spm::ModelProto proto;
  if (!proto.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    const std::string field = FindMalformedField(proto, data, 0);
    return corrupt(field.empty() ? "malformed protobuf" : "malformed protobuf in " + field);
  }
  SentencePieceModel m;
  m.pieces.reserve(proto.pieces_size());
  for (Piece& p : *proto.mutable_pieces()) {
    if (p.piece().empty()) return corrupt(absl::StrCat("piece ", m.pieces.size(), " is empty"));
    m.pieces.push_back({std::move(*p.mutable_piece()), p.score(), p.type()});
  }
  if (m.pieces.empty()) return corrupt("no pieces");
  const spm::TrainerSpec& trainer = proto.trainer_spec();
  m.model_type = trainer.model_type();
  m.treat_whitespace_as_suffix = trainer.treat_whitespace_as_suffix();
  m.byte_fallback = trainer.byte_fallback();
  m.unk_surface = trainer.unk_surface();
  m.unk_piece = trainer.unk_piece();
  m.bos_piece = trainer.bos_piece();
  m.eos_piece = trainer.eos_piece();
  const spm::NormalizerSpec& normalizer = proto.normalizer_spec();
  m.normalizer_name = normalizer.name();
  m.has_precompiled_charsmap = !normalizer.precompiled_charsmap().empty();
  m.add_dummy_prefix = normalizer.add_dummy_prefix();
  m.remove_extra_whitespaces = normalizer.remove_extra_whitespaces();
  m.escape_whitespaces = normalizer.escape_whitespaces();
  const spm::NormalizerSpec& denormalizer = proto.denormalizer_spec();
  m.has_denormalizer = !denormalizer.precompiled_charsmap().empty() ||
                       !denormalizer.normalization_rule_tsv().empty();
  return m;
}

}  // namespace gisp
