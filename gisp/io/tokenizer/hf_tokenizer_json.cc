#include "gisp/io/tokenizer/hf_tokenizer_json.h"

#include "absl/strings/str_cat.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

constexpr char kSupported[] =
    "gisp reads byte-level BPE tokenizers: Llama-3, Qwen2 and GPT-2 style";

absl::Status Unsupported(const std::string& path, absl::string_view field, const Json& value) {
  std::string shown = value.Dump();
  if (shown.size() > 300) shown = shown.substr(0, 300) + "...";
  return absl::UnimplementedError(
      absl::StrCat(path, ": unsupported ", field, " ", shown, " (", kSupported, ")"));
}

absl::Status Malformed(const std::string& path, absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": field \"", field, "\" ", what));
}

// The members of a "Sequence" node (under `list_key`), or the node itself.
std::vector<const Json*> Flatten(const Json& node, const char* list_key) {
  std::vector<const Json*> out;
  const Json* type = node.Find("type");
  if (type != nullptr && type->is_string() && type->string_value() == "Sequence") {
    if (const Json* list = node.Find(list_key); list != nullptr && list->is_array()) {
      for (const Json& j : list->array()) {
        for (const Json* inner : Flatten(j, list_key)) out.push_back(inner);
      }
    }
    return out;
  }
  out.push_back(&node);
  return out;
}

absl::StatusOr<std::string> TypeOf(const Json& node, const std::string& path,
                                   absl::string_view field) {
  const Json* type = node.Find("type");
  if (type == nullptr || !type->is_string()) {
    return Malformed(path, field, absl::StrCat("has no \"type\": ", node.Dump()));
  }
  return type->string_value();
}

bool IsNullOrEmpty(const Json* v) {
  return v == nullptr || v->is_null() || (v->is_string() && v->string_value().empty());
}

absl::Status ParseModel(const Json& root, const std::string& path, HfTokenizerSpec* spec) {
  const Json* model = root.Find("model");
  if (model == nullptr || !model->is_object()) return Malformed(path, "model", "is missing");
  GISP_ASSIGN_OR_RETURN(std::string type, JsonGetStringOr(*model, "type", "BPE", path));
  if (type != "BPE") return Unsupported(path, "model.type", Json::String(type));
  if (const Json* v = model->Find("dropout"); v != nullptr && !v->is_null()) {
    return Unsupported(path, "model.dropout", *v);
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (const Json* v = model->Find(key); !IsNullOrEmpty(v)) {
      return Unsupported(path, absl::StrCat("model.", key), *v);
    }
  }
  GISP_ASSIGN_OR_RETURN(bool byte_fallback, JsonGetBoolOr(*model, "byte_fallback", false, path));
  if (byte_fallback) return Unsupported(path, "model.byte_fallback", Json::Bool(true));
  GISP_ASSIGN_OR_RETURN(spec->model.ignore_merges,
                        JsonGetBoolOr(*model, "ignore_merges", false, path));
  GISP_ASSIGN_OR_RETURN(spec->model.fuse_unk, JsonGetBoolOr(*model, "fuse_unk", false, path));

  const Json* vocab = model->Find("vocab");
  if (vocab == nullptr || !vocab->is_object()) {
    return Malformed(path, "model.vocab", "is missing or not an object");
  }
  spec->model.vocab.reserve(vocab->object().size());
  for (const auto& [token, id] : vocab->object()) {
    if (!id.is_integer() || id.int_value() < 0 || id.int_value() > INT32_MAX) {
      return Malformed(path, "model.vocab",
                       absl::StrCat("entry \"", token, "\" has a bad id ", id.Dump()));
    }
    spec->model.vocab.emplace_back(token, static_cast<int32_t>(id.int_value()));
  }
  if (const Json* unk = model->Find("unk_token"); !IsNullOrEmpty(unk)) {
    const Json* id = unk->is_string() ? vocab->Find(unk->string_value()) : nullptr;
    if (id == nullptr) return Malformed(path, "model.unk_token", "is not in model.vocab");
    spec->model.unk_id = static_cast<int32_t>(id->int_value());
  }

  const Json* merges = model->Find("merges");
  if (merges == nullptr || !merges->is_array()) {
    return Malformed(path, "model.merges", "is missing or not an array");
  }
  spec->model.merges.reserve(merges->array().size());
  for (size_t rank = 0; rank < merges->array().size(); ++rank) {
    const Json& m = merges->array()[rank];
    if (m.is_string()) {  // legacy "left right"
      const std::string& s = m.string_value();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
        return Malformed(path, "model.merges",
                         absl::StrCat("entry ", rank, " \"", s, "\" is not two tokens"));
      }
      spec->model.merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.array().size() == 2 && m.array()[0].is_string() &&
               m.array()[1].is_string()) {
      spec->model.merges.emplace_back(m.array()[0].string_value(), m.array()[1].string_value());
    } else {
      return Malformed(path, "model.merges",
                       absl::StrCat("entry ", rank, " is malformed: ", m.Dump()));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseAddedTokens(const Json& root, const std::string& path, HfTokenizerSpec* spec) {
  const Json* added = root.Find("added_tokens");
  if (added == nullptr || added->is_null()) return absl::OkStatus();
  if (!added->is_array()) return Malformed(path, "added_tokens", "is not an array");
  for (const Json& t : added->array()) {
    AddedToken a;
    GISP_ASSIGN_OR_RETURN(a.content, JsonGetString(t, "content", path));
    GISP_ASSIGN_OR_RETURN(int64_t id, JsonGetInt(t, "id", path));
    if (id < 0 || id > INT32_MAX) {
      return Malformed(path, "added_tokens", absl::StrCat("\"", a.content, "\" has id ", id));
    }
    a.id = static_cast<int32_t>(id);
    GISP_ASSIGN_OR_RETURN(a.special, JsonGetBoolOr(t, "special", false, path));
    GISP_ASSIGN_OR_RETURN(a.lstrip, JsonGetBoolOr(t, "lstrip", false, path));
    GISP_ASSIGN_OR_RETURN(a.rstrip, JsonGetBoolOr(t, "rstrip", false, path));
    GISP_ASSIGN_OR_RETURN(a.single_word, JsonGetBoolOr(t, "single_word", false, path));
    GISP_ASSIGN_OR_RETURN(a.normalized, JsonGetBoolOr(t, "normalized", !a.special, path));
    spec->added_tokens.push_back(std::move(a));
  }
  return absl::OkStatus();
}

absl::Status ParseNormalizer(const Json& root, const std::string& path, HfTokenizerSpec* spec) {
  const Json* norm = root.Find("normalizer");
  if (norm == nullptr || norm->is_null()) return absl::OkStatus();
  for (const Json* n : Flatten(*norm, "normalizers")) {
    GISP_ASSIGN_OR_RETURN(std::string type, TypeOf(*n, path, "normalizer"));
    if (type != "NFC") return Unsupported(path, "normalizer", *n);
    spec->nfc = true;
  }
  return absl::OkStatus();
}

// ByteLevel(use_regex=true) alone, or Split(known regex, Isolated) then ByteLevel(use_regex=false).
absl::Status ParsePreTokenizer(const Json& root, const std::string& path, HfTokenizerSpec* spec) {
  const Json* pre = root.Find("pre_tokenizer");
  if (pre == nullptr || pre->is_null()) return Unsupported(path, "pre_tokenizer", Json());
  const std::vector<const Json*> parts = Flatten(*pre, "pretokenizers");
  bool split = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Json& p = *parts[i];
    GISP_ASSIGN_OR_RETURN(std::string type, TypeOf(p, path, "pre_tokenizer"));
    const bool last = i + 1 == parts.size();
    if (type == "Split" && i == 0 && !last) {
      const Json* pattern = p.Find("pattern");
      const Json* regex = pattern != nullptr ? pattern->Find("Regex") : nullptr;
      if (regex == nullptr || !regex->is_string()) {
        return Unsupported(path, "pre_tokenizer Split pattern (only a Regex is supported)", p);
      }
      GISP_ASSIGN_OR_RETURN(std::string behavior, JsonGetStringOr(p, "behavior", "", path));
      GISP_ASSIGN_OR_RETURN(bool invert, JsonGetBoolOr(p, "invert", false, path));
      if (behavior != "Isolated" || invert) {
        return Unsupported(path, "pre_tokenizer Split (behavior must be Isolated, invert false)",
                           p);
      }
      auto recognized = RecognizeSplitPattern(regex->string_value());
      if (!recognized.ok()) {
        return absl::UnimplementedError(
            absl::StrCat(path, ": pre_tokenizer: ", recognized.status().message()));
      }
      spec->pattern = *recognized;
      split = true;
    } else if (type == "ByteLevel" && last) {
      GISP_ASSIGN_OR_RETURN(bool use_regex, JsonGetBoolOr(p, "use_regex", true, path));
      GISP_ASSIGN_OR_RETURN(spec->add_prefix_space,
                            JsonGetBoolOr(p, "add_prefix_space", true, path));
      if (use_regex == split) {
        return Unsupported(path,
                           "pre_tokenizer (ByteLevel needs use_regex=true alone or "
                           "use_regex=false after one Split)",
                           *pre);
      }
      if (use_regex) spec->pattern = SplitPattern::kGpt2;
      spec->prefix_space_per_word = split;
      return absl::OkStatus();
    } else {
      return Unsupported(path, "pre_tokenizer", p);
    }
  }
  return Unsupported(path, "pre_tokenizer (no ByteLevel step)", *pre);
}

absl::Status ParseDecoder(const Json& root, const std::string& path) {
  const Json* decoder = root.Find("decoder");
  if (decoder == nullptr || decoder->is_null()) return Unsupported(path, "decoder", Json());
  const std::vector<const Json*> parts = Flatten(*decoder, "decoders");
  for (const Json* d : parts) {
    GISP_ASSIGN_OR_RETURN(std::string type, TypeOf(*d, path, "decoder"));
    if (type != "ByteLevel") return Unsupported(path, "decoder", *d);
  }
  if (parts.empty()) return Unsupported(path, "decoder", *decoder);
  return absl::OkStatus();
}

// The id of a special token named in the post-processor.
absl::StatusOr<std::vector<int32_t>> SpecialTokenIds(const Json& template_node,
                                                     const std::string& name,
                                                     const HfTokenizerSpec& spec, const Json& vocab,
                                                     const std::string& path) {
  const Json* specials = template_node.Find("special_tokens");
  const Json* entry = specials != nullptr ? specials->Find(name) : nullptr;
  const Json* ids = entry != nullptr ? entry->Find("ids") : nullptr;
  if (ids != nullptr && ids->is_array()) {
    std::vector<int32_t> out;
    for (const Json& id : ids->array()) {
      if (!id.is_integer() || id.int_value() < 0 || id.int_value() > INT32_MAX) {
        return Malformed(path, "post_processor.special_tokens",
                         absl::StrCat("entry \"", name, "\" has a bad id ", id.Dump()));
      }
      out.push_back(static_cast<int32_t>(id.int_value()));
    }
    return out;
  }
  for (const AddedToken& a : spec.added_tokens) {
    if (a.content == name) return std::vector<int32_t>{a.id};
  }
  if (const Json* id = vocab.Find(name); id != nullptr) {
    return std::vector<int32_t>{static_cast<int32_t>(id->int_value())};
  }
  return Malformed(path, "post_processor", absl::StrCat("names an unknown token \"", name, "\""));
}

absl::Status ParsePostProcessor(const Json& root, const std::string& path, HfTokenizerSpec* spec) {
  const Json* post = root.Find("post_processor");
  if (post == nullptr || post->is_null()) return absl::OkStatus();
  const Json& vocab = *root.Find("model")->Find("vocab");
  for (const Json* p : Flatten(*post, "processors")) {
    GISP_ASSIGN_OR_RETURN(std::string type, TypeOf(*p, path, "post_processor"));
    if (type == "ByteLevel") continue;  // offsets only
    if (type != "TemplateProcessing") return Unsupported(path, "post_processor", *p);
    const Json* single = p->Find("single");
    if (single == nullptr || !single->is_array()) {
      return Malformed(path, "post_processor.single", "is missing");
    }
    bool after = false;
    for (const Json& piece : single->array()) {
      if (const Json* seq = piece.Find("Sequence"); seq != nullptr) {
        if (after) return Unsupported(path, "post_processor.single (two sequences)", *single);
        after = true;
        continue;
      }
      const Json* special = piece.Find("SpecialToken");
      if (special == nullptr) return Unsupported(path, "post_processor.single piece", piece);
      GISP_ASSIGN_OR_RETURN(std::string name, JsonGetString(*special, "id", path));
      GISP_ASSIGN_OR_RETURN(std::vector<int32_t> ids,
                            SpecialTokenIds(*p, name, *spec, vocab, path));
      std::vector<int32_t>& side = after ? spec->suffix : spec->prefix;
      side.insert(side.end(), ids.begin(), ids.end());
    }
  }
  return absl::OkStatus();
}

// Id tables are dense (one slot per id up to the largest), so a single huge id would allocate
// gigabytes. Real tokenizers number their tokens 0..n-1 (added tokens continue the vocabulary);
// ids are allowed up to twice the number of tokens the file defines, plus slack for reserved
// ranges, which bounds the tables by the file's own size.
absl::Status CheckIdsAreDense(const std::string& path, HfTokenizerSpec* spec) {
  const int64_t defined =
      static_cast<int64_t>(spec->model.vocab.size() + spec->added_tokens.size());
  const int64_t limit = 2 * defined + 1024;
  auto check = [&](absl::string_view field, absl::string_view token, int64_t id) {
    if (id < limit) return absl::OkStatus();
    return Malformed(path, field,
                     absl::StrCat("entry \"", token, "\" has id ", id, ", but the file defines ",
                                  defined, " tokens (ids must be below ", limit, ")"));
  };
  for (const auto& [token, id] : spec->model.vocab) {
    GISP_RETURN_IF_ERROR(check("model.vocab", token, id));
  }
  for (const AddedToken& a : spec->added_tokens) {
    GISP_RETURN_IF_ERROR(check("added_tokens", a.content, a.id));
  }
  for (const std::vector<int32_t>* side : {&spec->prefix, &spec->suffix}) {
    for (int32_t id : *side) GISP_RETURN_IF_ERROR(check("post_processor", "", id));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<HfTokenizerSpec> ParseHfTokenizerJson(const Json& root, const std::string& path) {
  if (!root.is_object()) return absl::InvalidArgumentError(absl::StrCat(path, ": not an object"));
  HfTokenizerSpec spec;
  GISP_RETURN_IF_ERROR(ParseModel(root, path, &spec));
  GISP_RETURN_IF_ERROR(ParseAddedTokens(root, path, &spec));
  GISP_RETURN_IF_ERROR(ParseNormalizer(root, path, &spec));
  GISP_RETURN_IF_ERROR(ParsePreTokenizer(root, path, &spec));
  GISP_RETURN_IF_ERROR(ParseDecoder(root, path));
  GISP_RETURN_IF_ERROR(ParsePostProcessor(root, path, &spec));
  GISP_RETURN_IF_ERROR(CheckIdsAreDense(path, &spec));
  return spec;
}

}  // namespace gisp
