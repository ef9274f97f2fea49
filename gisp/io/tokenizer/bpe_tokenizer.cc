#include "gisp/io/tokenizer/bpe_tokenizer.h"

#include <algorithm>
#include <limits>
#include <mutex>
#include <unordered_map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/base/json.h"
#include "gisp/base/status.h"
#include "gisp/io/tokenizer/pre_tokenizer.h"
#include "gisp/io/tokenizer/unicode.h"

namespace gisp {
namespace {

// GPT-2's reversible byte -> printable code point map.
struct ByteMap {
  uint32_t to_cp[256];
  absl::flat_hash_map<uint32_t, uint8_t> to_byte;
  ByteMap() {
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      to_cp[b] = printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + extra++);
      to_byte[to_cp[b]] = static_cast<uint8_t>(b);
    }
  }
};

const ByteMap& Bytes() {
  static const ByteMap* map = new ByteMap();
  return *map;
}

struct AddedToken {
  std::string content;
  int32_t id;
  bool special;
  bool lstrip, rstrip;
};

class BpeTokenizer final : public Tokenizer {
 public:
  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_special_tokens) const override {
    std::vector<int32_t> out;
    if (add_special_tokens) out = prefix_;
    size_t pos = 0, plain = 0;
    while (pos <= text.size()) {
      const AddedToken* hit = pos < text.size() ? AddedAt(text, pos) : nullptr;
      if (hit == nullptr && pos < text.size()) {
        ++pos;
        continue;
      }
      size_t plain_end = pos;
      if (hit != nullptr && hit->lstrip) {
        while (plain_end > plain && text[plain_end - 1] == ' ') --plain_end;
      }
      GISP_RETURN_IF_ERROR(EncodePlain(text.substr(plain, plain_end - plain), &out));
      if (hit == nullptr) break;
      out.push_back(hit->id);
      pos += hit->content.size();
      if (hit->rstrip) {
        while (pos < text.size() && text[pos] == ' ') ++pos;
      }
      plain = pos;
    }
    if (add_special_tokens) out.insert(out.end(), suffix_.begin(), suffix_.end());
    return out;
  }

  absl::StatusOr<std::string> Decode(absl::Span<const int32_t> ids,
                                     bool skip_special_tokens) const override {
    std::string out;
    for (int32_t id : ids) {
      if (id < 0 || id >= static_cast<int32_t>(id_to_token_.size())) {
        return absl::InvalidArgumentError(
            absl::StrCat("token id ", id, " is outside the vocabulary of ", id_to_token_.size()));
      }
      auto added = added_by_id_.find(id);
      if (added != added_by_id_.end()) {
        if (!(skip_special_tokens && added->second->special)) out += added->second->content;
        continue;
      }
      for (uint32_t cp : unicode::Decode(id_to_token_[id])) {
        auto it = Bytes().to_byte.find(cp);
        if (it != Bytes().to_byte.end()) {
          out.push_back(static_cast<char>(it->second));
        } else {
          unicode::AppendUtf8(cp, &out);
        }
      }
    }
    return out;
  }

  int32_t vocab_size() const override { return static_cast<int32_t>(id_to_token_.size()); }
  int32_t bos_id() const override { return bos_; }
  int32_t eos_id() const override { return eos_; }
  std::string kind() const override { return "hf-bpe"; }

  absl::Status Init(const std::string& path);

 private:
  const AddedToken* AddedAt(absl::string_view text, size_t pos) const {
    const unsigned char c = static_cast<unsigned char>(text[pos]);
    if (!added_first_byte_[c]) return nullptr;
    for (const AddedToken& t : added_) {  // longest first
      if (text.compare(pos, t.content.size(), t.content) == 0) return &t;
    }
    return nullptr;
  }

  absl::Status EncodePlain(absl::string_view text, std::vector<int32_t>* out) const {
    if (text.empty()) return absl::OkStatus();
    std::vector<uint32_t> cps = unicode::Decode(text);
    if (nfc_) cps = unicode::Nfc(cps);
    if (add_prefix_space_ && !cps.empty() && cps[0] != ' ') cps.insert(cps.begin(), ' ');
    for (const auto& [b, e] : SplitWords(cps, pattern_)) {
      const std::string word = unicode::Encode(cps, b, e);
      GISP_RETURN_IF_ERROR(EncodeWord(word, out));
    }
    return absl::OkStatus();
  }

  absl::Status EncodeWord(const std::string& word, std::vector<int32_t>* out) const {
    {
      std::lock_guard<std::mutex> lock(cache_mu_);
      auto it = cache_.find(word);
      if (it != cache_.end()) {
        out->insert(out->end(), it->second.begin(), it->second.end());
        return absl::OkStatus();
      }
    }
    std::string mapped;
    for (unsigned char b : word) unicode::AppendUtf8(Bytes().to_cp[b], &mapped);
    std::vector<int32_t> ids;
    auto whole = vocab_.find(mapped);
    if (ignore_merges_ && whole != vocab_.end()) {
      ids.push_back(whole->second);
    } else {
      for (unsigned char b : word) {
        std::string sym;
        unicode::AppendUtf8(Bytes().to_cp[b], &sym);
        auto it = vocab_.find(sym);
        if (it == vocab_.end()) {
          return absl::InvalidArgumentError(absl::StrCat(
              path_, ": byte ", static_cast<int>(b), " has no token in model.vocab"));
        }
        ids.push_back(it->second);
      }
      // Merge the lowest-ranked adjacent pair (leftmost on ties) until none applies.
      while (ids.size() > 1) {
        int32_t best_rank = std::numeric_limits<int32_t>::max();
        size_t best = 0;
        int32_t best_id = -1;
        for (size_t i = 0; i + 1 < ids.size(); ++i) {
          auto it = merges_.find(Key(ids[i], ids[i + 1]));
          if (it != merges_.end() && it->second.first < best_rank) {
            best_rank = it->second.first;
            best = i;
            best_id = it->second.second;
          }
        }
        if (best_id < 0) break;
        ids[best] = best_id;
        ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(best) + 1);
      }
    }
    out->insert(out->end(), ids.begin(), ids.end());
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (cache_.size() < 1000000) cache_.emplace(word, std::move(ids));
    return absl::OkStatus();
  }

  static uint64_t Key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }

  std::string path_;
  absl::flat_hash_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_;
  absl::flat_hash_map<uint64_t, std::pair<int32_t, int32_t>> merges_;  // -> (rank, merged id)
  bool ignore_merges_ = false;
  bool nfc_ = false;
  bool add_prefix_space_ = false;
  SplitPattern pattern_ = SplitPattern::kGpt2;
  std::vector<AddedToken> added_;  // longest content first
  std::unordered_map<int32_t, const AddedToken*> added_by_id_;
  bool added_first_byte_[256] = {};
  std::vector<int32_t> prefix_, suffix_;  // what add_special_tokens adds
  int32_t bos_ = -1, eos_ = -1;
  mutable std::mutex cache_mu_;
  mutable absl::flat_hash_map<std::string, std::vector<int32_t>> cache_;
};

absl::Status Unsupported(const std::string& path, absl::string_view field, const Json& value) {
  return absl::UnimplementedError(
      absl::StrCat(path, ": unsupported ", field, " ", value.Dump(),
                   " (gisp reads byte-level BPE tokenizers: Llama-3, Qwen2, GPT-2 style)"));
}

absl::Status BpeTokenizer::Init(const std::string& path) {
  path_ = path;
  GISP_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  GISP_ASSIGN_OR_RETURN(Json root, ParseJson(text, path));
  const Json* model = root.Find("model");
  if (model == nullptr || !model->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": field \"model\" is missing"));
  }
  GISP_ASSIGN_OR_RETURN(std::string type, JsonGetStringOr(*model, "type", "BPE", path));
  if (type != "BPE") return Unsupported(path, "model.type", Json::String(type));
  const Json* vocab = model->Find("vocab");
  if (vocab == nullptr || !vocab->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": field \"model.vocab\" is missing"));
  }
  int32_t max_id = -1;
  for (const auto& [token, id] : vocab->object()) {
    if (!id.is_integer() || id.int_value() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": model.vocab entry \"", token, "\" has a bad id ", id.Dump()));
    }
    vocab_[token] = static_cast<int32_t>(id.int_value());
    max_id = std::max(max_id, static_cast<int32_t>(id.int_value()));
  }
  GISP_ASSIGN_OR_RETURN(ignore_merges_, JsonGetBoolOr(*model, "ignore_merges", false, path));
  if (const Json* fallback = model->Find("byte_fallback");
      fallback != nullptr && fallback->is_bool() && fallback->bool_value()) {
    return Unsupported(path, "model.byte_fallback", *fallback);
  }
  // Added tokens (special and not).
  if (const Json* added = root.Find("added_tokens"); added != nullptr && added->is_array()) {
    for (const Json& t : added->array()) {
      AddedToken a;
      GISP_ASSIGN_OR_RETURN(a.content, JsonGetString(t, "content", path));
      GISP_ASSIGN_OR_RETURN(int64_t id, JsonGetInt(t, "id", path));
      a.id = static_cast<int32_t>(id);
      GISP_ASSIGN_OR_RETURN(a.special, JsonGetBoolOr(t, "special", false, path));
      GISP_ASSIGN_OR_RETURN(a.lstrip, JsonGetBoolOr(t, "lstrip", false, path));
      GISP_ASSIGN_OR_RETURN(a.rstrip, JsonGetBoolOr(t, "rstrip", false, path));
      if (a.content.empty()) continue;
      max_id = std::max(max_id, a.id);
      added_.push_back(std::move(a));
    }
  }
  std::stable_sort(added_.begin(), added_.end(), [](const AddedToken& x, const AddedToken& y) {
    return x.content.size() > y.content.size();
  });
  for (const AddedToken& a : added_) {
    added_by_id_[a.id] = &a;
    added_first_byte_[static_cast<unsigned char>(a.content[0])] = true;
  }
  id_to_token_.assign(static_cast<size_t>(max_id + 1), std::string());
  for (const auto& [token, id] : vocab_) id_to_token_[static_cast<size_t>(id)] = token;
  for (const AddedToken& a : added_) {
    if (id_to_token_[a.id].empty()) id_to_token_[a.id] = a.content;
  }
  // Merges: "a b" strings or [a, b] pairs, rank = position.
  if (const Json* merges = model->Find("merges"); merges != nullptr && merges->is_array()) {
    int32_t rank = 0;
    for (const Json& m : merges->array()) {
      std::string left, right;
      if (m.is_string()) {
        const std::string& s = m.string_value();
        const size_t space = s.find(' ', 1);
        if (space == std::string::npos) {
          return absl::InvalidArgumentError(
              absl::StrCat(path, ": model.merges entry ", rank, " \"", s, "\" has no space"));
        }
        left = s.substr(0, space);
        right = s.substr(space + 1);
      } else if (m.is_array() && m.array().size() == 2 && m.array()[0].is_string() &&
                 m.array()[1].is_string()) {
        left = m.array()[0].string_value();
        right = m.array()[1].string_value();
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": model.merges entry ", rank, " is malformed: ", m.Dump()));
      }
      auto l = vocab_.find(left), r = vocab_.find(right), merged = vocab_.find(left + right);
      if (l != vocab_.end() && r != vocab_.end() && merged != vocab_.end()) {
        merges_.emplace(Key(l->second, r->second), std::make_pair(rank, merged->second));
      }
      ++rank;
    }
  }
  // Normalizer: none or NFC (possibly inside a Sequence).
  if (const Json* norm = root.Find("normalizer"); norm != nullptr && !norm->is_null()) {
    std::vector<const Json*> parts;
    GISP_ASSIGN_OR_RETURN(std::string ntype, JsonGetString(*norm, "type", path));
    if (ntype == "Sequence") {
      if (const Json* list = norm->Find("normalizers"); list != nullptr && list->is_array()) {
        for (const Json& j : list->array()) parts.push_back(&j);
      }
    } else {
      parts.push_back(norm);
    }
    for (const Json* p : parts) {
      GISP_ASSIGN_OR_RETURN(std::string t, JsonGetString(*p, "type", path));
      if (t != "NFC") return Unsupported(path, "normalizer", *p);
      nfc_ = true;
    }
  }
  // Pre-tokenizer: ByteLevel(use_regex) or Sequence[Split(pattern), ByteLevel(use_regex=false)].
  const Json* pre = root.Find("pre_tokenizer");
  if (pre == nullptr || pre->is_null()) {
    return Unsupported(path, "pre_tokenizer", Json());
  }
  std::vector<const Json*> pres;
  GISP_ASSIGN_OR_RETURN(std::string ptype, JsonGetString(*pre, "type", path));
  if (ptype == "Sequence") {
    if (const Json* list = pre->Find("pretokenizers"); list != nullptr && list->is_array()) {
      for (const Json& j : list->array()) pres.push_back(&j);
    }
  } else {
    pres.push_back(pre);
  }
  bool have_pattern = false, have_byte_level = false;
  for (const Json* p : pres) {
    GISP_ASSIGN_OR_RETURN(std::string t, JsonGetString(*p, "type", path));
    if (t == "Split") {
      const Json* pattern = p->Find("pattern");
      const Json* regex = pattern != nullptr ? pattern->Find("Regex") : nullptr;
      if (regex == nullptr || !regex->is_string()) return Unsupported(path, "Split pattern", *p);
      GISP_ASSIGN_OR_RETURN(pattern_, RecognizeSplitPattern(regex->string_value()));
      have_pattern = true;
    } else if (t == "ByteLevel") {
      have_byte_level = true;
      GISP_ASSIGN_OR_RETURN(add_prefix_space_, JsonGetBoolOr(*p, "add_prefix_space", false, path));
      GISP_ASSIGN_OR_RETURN(bool use_regex, JsonGetBoolOr(*p, "use_regex", true, path));
      if (use_regex) {
        if (have_pattern) return Unsupported(path, "pre_tokenizer (two split patterns)", *pre);
        pattern_ = SplitPattern::kGpt2;
        have_pattern = true;
      }
    } else {
      return Unsupported(path, "pre_tokenizer", *p);
    }
  }
  if (!have_byte_level || !have_pattern) return Unsupported(path, "pre_tokenizer", *pre);
  // Post-processor: TemplateProcessing special tokens around the single sequence.
  std::vector<const Json*> posts;
  if (const Json* post = root.Find("post_processor"); post != nullptr && !post->is_null()) {
    GISP_ASSIGN_OR_RETURN(std::string t, JsonGetString(*post, "type", path));
    if (t == "Sequence") {
      if (const Json* list = post->Find("processors"); list != nullptr && list->is_array()) {
        for (const Json& j : list->array()) posts.push_back(&j);
      }
    } else {
      posts.push_back(post);
    }
  }
  for (const Json* p : posts) {
    GISP_ASSIGN_OR_RETURN(std::string t, JsonGetString(*p, "type", path));
    if (t == "ByteLevel") continue;
    if (t != "TemplateProcessing") return Unsupported(path, "post_processor", *p);
    const Json* single = p->Find("single");
    if (single == nullptr || !single->is_array()) return Unsupported(path, "post_processor", *p);
    bool after = false;
    for (const Json& piece : single->array()) {
      if (piece.Find("Sequence") != nullptr) {
        after = true;
        continue;
      }
      const Json* special = piece.Find("SpecialToken");
      if (special == nullptr) return Unsupported(path, "post_processor piece", piece);
      GISP_ASSIGN_OR_RETURN(std::string name, JsonGetString(*special, "id", path));
      int32_t id = -1;
      for (const AddedToken& a : added_) {
        if (a.content == name) id = a.id;
      }
      if (id < 0) {
        auto it = vocab_.find(name);
        if (it == vocab_.end()) {
          return absl::InvalidArgumentError(
              absl::StrCat(path, ": post_processor names an unknown token \"", name, "\""));
        }
        id = it->second;
      }
      (after ? suffix_ : prefix_).push_back(id);
    }
  }
  // BOS/EOS: tokenizer_config.json next to tokenizer.json, else the template's first token.
  const size_t slash = path.find_last_of('/');
  const std::string config_path =
      JoinPath(slash == std::string::npos ? "." : path.substr(0, slash), "tokenizer_config.json");
  auto id_of = [&](const std::string& content) -> int32_t {
    for (const AddedToken& a : added_) {
      if (a.content == content) return a.id;
    }
    auto it = vocab_.find(content);
    return it == vocab_.end() ? -1 : it->second;
  };
  auto token_name = [](const Json* v) -> std::string {
    if (v == nullptr) return "";
    if (v->is_string()) return v->string_value();
    if (v->is_object() && v->Find("content") && v->Find("content")->is_string()) {
      return v->Find("content")->string_value();
    }
    return "";
  };
  if (FileExists(config_path)) {
    GISP_ASSIGN_OR_RETURN(std::string cfg_text, ReadFile(config_path));
    GISP_ASSIGN_OR_RETURN(Json cfg, ParseJson(cfg_text, config_path));
    const std::string bos = token_name(cfg.Find("bos_token"));
    const std::string eos = token_name(cfg.Find("eos_token"));
    if (!bos.empty()) bos_ = id_of(bos);
    if (!eos.empty()) eos_ = id_of(eos);
  }
  if (bos_ < 0 && !prefix_.empty()) bos_ = prefix_.front();
  if (eos_ < 0) {
    for (const char* name : {"<|end_of_text|>", "<|endoftext|>", "</s>"}) {
      if (eos_ < 0) eos_ = id_of(name);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> NewBpeTokenizer(const std::string& path) {
  auto tok = std::make_unique<BpeTokenizer>();
  GISP_RETURN_IF_ERROR(tok->Init(path));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace gisp
