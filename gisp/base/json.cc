#include "gisp/base/json.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace gisp {

Json Json::Bool(bool b) {
  Json j;
  j.type_ = Type::kBool;
  j.bool_ = b;
  return j;
}

Json Json::Number(double d) {
  Json j;
  j.type_ = Type::kNumber;
  j.number_ = d;
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
    j.is_integer_ = true;
    j.integer_ = static_cast<int64_t>(d);
  }
  return j;
}

Json Json::Int(int64_t i) {
  Json j;
  j.type_ = Type::kNumber;
  j.number_ = static_cast<double>(i);
  j.is_integer_ = true;
  j.integer_ = i;
  return j;
}

Json Json::String(std::string s) {
  Json j;
  j.type_ = Type::kString;
  j.string_ = std::move(s);
  return j;
}

Json Json::MakeArray(Array items) {
  Json j;
  j.type_ = Type::kArray;
  j.array_ = std::move(items);
  return j;
}

Json Json::MakeObject(Object members) {
  Json j;
  j.type_ = Type::kObject;
  j.object_ = std::move(members);
  return j;
}

void Json::BuildIndex() const {
  auto index = std::make_shared<std::map<std::string, size_t, std::less<>>>();
  for (size_t i = 0; i < object_.size(); ++i) (*index)[object_[i].first] = i;  // last wins
  index_ = std::move(index);
}

const Json* Json::Find(absl::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  if (object_.size() <= 16) {
    for (auto it = object_.rbegin(); it != object_.rend(); ++it) {
      if (it->first == key) return &it->second;
    }
    return nullptr;
  }
  if (!index_ || index_->size() > object_.size()) BuildIndex();
  auto it = index_->find(key);
  if (it == index_->end()) return nullptr;
  return &object_[it->second].second;
}

void Json::Set(std::string key, Json value) {
  type_ = Type::kObject;
  for (auto& member : object_) {
    if (member.first == key) {
      member.second = std::move(value);
      return;
    }
  }
  object_.emplace_back(std::move(key), std::move(value));
  index_.reset();
}

namespace {

using Nlohmann = nlohmann::ordered_json;

Nlohmann ToNlohmann(const Json& j) {
  switch (j.type()) {
    case Json::Type::kNull:
      return nullptr;
    case Json::Type::kBool:
      return j.bool_value();
    case Json::Type::kNumber:
      if (j.is_integer()) return j.int_value();
      return j.number_value();  // non-finite numbers are written as null
    case Json::Type::kString:
      return j.string_value();
    case Json::Type::kArray: {
      Nlohmann out = Nlohmann::array();
      auto& items = out.get_ref<Nlohmann::array_t&>();
      items.reserve(j.array().size());
      for (const Json& item : j.array()) items.push_back(ToNlohmann(item));
      return out;
    }
    case Json::Type::kObject: {
      Nlohmann out = Nlohmann::object();
      // Appended in order without ordered_map's linear duplicate search (quadratic for a
      // 50k-entry vocabulary); the members are written as they are, duplicates included.
      auto& members =
          static_cast<Nlohmann::object_t::Container&>(out.get_ref<Nlohmann::object_t&>());
      members.reserve(j.object().size());
      for (const auto& [key, value] : j.object()) members.emplace_back(key, ToNlohmann(value));
      return out;
    }
  }
  return nullptr;
}

std::string DumpNlohmann(const Nlohmann& j, int indent) {
  // Strings built in code may hold bytes that are not UTF-8: written as U+FFFD, so what gisp
  // writes is always JSON its own parser (and Python's) accepts.
  return j.dump(indent, ' ', /*ensure_ascii=*/false, Nlohmann::error_handler_t::replace);
}

}  // namespace

void AppendJsonString(absl::string_view s, std::string* out) {
  out->append(DumpNlohmann(Nlohmann(std::string(s)), -1));
}

std::string Json::Shown() const {
  if (type_ == Type::kNumber && !is_integer_ && !string_.empty()) {
    // The literal as parsed (truncated by the parser to 41 characters when longer).
    if (string_.size() > 40) return absl::StrCat(string_.substr(0, 40), "...");
    return string_;
  }
  std::string s = Dump();
  if (s.size() > 200) s = absl::StrCat(s.substr(0, 200), "...");
  return s;
}

std::string Json::Dump(int indent) const { return DumpNlohmann(ToNlohmann(*this), indent); }

// Builds a Json tree from nlohmann's SAX events, keeping each value's byte offset and the
// literal of non-integer numbers, and adds gisp's rules where nlohmann's messages are too vague
// (leading zeros, NaN/Infinity) or its parser has no limit (nesting depth).
class JsonBuilder : public nlohmann::json_sax<nlohmann::json> {
 public:
  JsonBuilder(absl::string_view text, absl::string_view source) : text_(text), source_(source) {}

  // Feeds nlohmann's parser and records in `cursor_` how far it has read (its lexer keeps its
  // position to itself, and SAX events carry none).
  struct CountingIterator {
    using iterator_category = std::input_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = const char&;
    const char* p;
    const char** cursor;
    reference operator*() const { return *p; }
    CountingIterator& operator++() {
      ++p;
      *cursor = p;
      return *this;
    }
    bool operator==(const CountingIterator& o) const { return p == o.p; }
    bool operator!=(const CountingIterator& o) const { return p != o.p; }
  };

  absl::StatusOr<Json> Parse() {
    const char* cursor = text_.data();
    cursor_ = &cursor;
    CountingIterator first{text_.data(), &cursor};
    CountingIterator last{text_.data() + text_.size(), &cursor};
    const bool ok = nlohmann::json::sax_parse(first, last, this);
    if (!ok || !error_.ok()) {
      if (error_.ok()) Fail(Read(), "invalid document");
      return error_;
    }
    return std::move(root_);
  }

  bool null() override { return Put(Json(), Read() - 4); }
  bool boolean(bool b) override { return Put(Json::Bool(b), Read() - (b ? 4 : 5)); }
  bool number_integer(number_integer_t i) override {
    return Number(Json::Int(i), absl::StrCat(i == 0 ? "-" : "", i));
  }
  bool number_unsigned(number_unsigned_t u) override {
    if (u <= static_cast<uint64_t>(INT64_MAX)) {
      return Number(Json::Int(static_cast<int64_t>(u)), absl::StrCat(u));
    }
    // Beyond int64: a non-integer number, shown as written.
    const std::string literal = absl::StrCat(u);
    Json j = Json::Number(static_cast<double>(u));
    j.is_integer_ = false;
    j.string_ = literal;
    return Number(std::move(j), literal);
  }
  bool number_float(number_float_t d, const string_t& literal) override {
    Json j;
    j.type_ = Json::Type::kNumber;
    j.number_ = d;
    // Kept so errors show the number as written ("1.92e2", a 30-digit integer), not as
    // re-formatted (192.0, 1.2345678901234568e+29).
    j.string_ = literal.substr(0, kMaxLiteralShown + 1);
    return Number(std::move(j), literal);
  }
  bool string(string_t& s) override { return Put(Json::String(std::move(s)), StringStart()); }
  bool binary(binary_t&) override { return Fail(Read(), "binary values are not JSON"); }
  bool start_object(std::size_t) override { return Open(Json::MakeObject()); }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return Open(Json::MakeArray()); }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string& last_token,
                   const nlohmann::detail::exception& e) override {
    Diagnose(last_token, e);
    return false;
  }

 private:
  static constexpr int kMaxDepth = 256;
  static constexpr size_t kMaxLiteralShown = 40;

  size_t Read() const { return static_cast<size_t>(*cursor_ - text_.data()); }

  static bool IsTokenChar(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '+' || c == '.';
  }

  // Where `token` starts, given that it ends where the parser stopped reading or one character
  // before (the lexer reads one character past a number).
  size_t TokenStart(absl::string_view token) const {
    const size_t read = Read();
    if (read >= token.size() + 1 && text_.substr(read - token.size() - 1, token.size()) == token) {
      return read - token.size() - 1;
    }
    return read >= token.size() ? read - token.size() : 0;
  }

  // The opening quote of the string whose closing quote was the last character read.
  size_t StringStart() const {
    size_t i = Read() - 1;
    while (i > 0) {
      --i;
      if (text_[i] != '"') continue;
      size_t backslashes = 0;
      while (backslashes < i && text_[i - 1 - backslashes] == '\\') ++backslashes;
      if (backslashes % 2 == 0) return i;
    }
    return 0;
  }

  bool Fail(size_t offset, absl::string_view what) {
    offset = std::min(offset, text_.size());
    int line = 1;
    int column = 1;
    for (size_t i = 0; i < offset; ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    error_ = absl::InvalidArgumentError(absl::StrCat(
        source_, ":", line, ":", column, ": invalid JSON: ", what, " (byte ", offset, ")"));
    return false;
  }

  bool Number(Json j, absl::string_view literal) {
    const size_t start = TokenStart(literal);
    // nlohmann reads "01" as the number 0 followed by a stray 1: refused here with the reason.
    const size_t digits = start + (literal[0] == '-' ? 1 : 0);
    const size_t end = start + literal.size();
    if (digits < text_.size() && text_[digits] == '0' && end < text_.size() && text_[end] >= '0' &&
        text_[end] <= '9' && end == digits + 1) {
      return Fail(digits, "number with a leading zero");
    }
    return Put(std::move(j), start);
  }

  Json* Put(Json value, size_t offset) {
    value.offset_ = static_cast<int64_t>(offset);
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Json* parent = stack_.back();
    if (parent->type_ == Json::Type::kArray) {
      parent->array_.push_back(std::move(value));
      return &parent->array_.back();
    }
    parent->object_.emplace_back(std::move(key_), std::move(value));
    return &parent->object_.back().second;
  }

  bool Open(Json container) {
    const size_t offset = Read() - 1;
    if (stack_.size() >= kMaxDepth) return Fail(offset, "nesting is too deep");
    stack_.push_back(Put(std::move(container), offset));
    return true;
  }

  // The first digits of a long literal and its length, so a 400-digit number stays readable.
  static std::string ShortLiteral(absl::string_view literal) {
    if (literal.size() <= kMaxLiteralShown) return std::string(literal);
    return absl::StrCat(literal.substr(0, kMaxLiteralShown), "... (", literal.size(),
                        " characters)");
  }

  // Turns nlohmann's error into gisp's: the position where the bad token starts, and for the
  // cases the project has seen in the wild a sentence that says what is wrong.
  void Diagnose(const std::string& last_token, const nlohmann::detail::exception& e) {
    const std::string message = e.what();
    // nlohmann's words without the input it echoes ("; last read: '...'"): the input may
    // itself contain "surrogate" or "control character".
    const std::string words = message.substr(0, message.find("; last read:"));
    const size_t read = Read();
    if (e.id == 406) {  // number overflow: 1e999, or a 400-digit integer
      Fail(TokenStart(last_token),
           absl::StrCat("number ", ShortLiteral(last_token), " is out of range"));
      return;
    }
    if (words.find("ill-formed UTF-8") != std::string::npos && read > 0) {
      // Strings reach file names, tokens and error messages: only valid UTF-8 gets in. Shown
      // at the first byte of the bad sequence.
      size_t i = read - 1;
      auto byte = [&](size_t k) { return static_cast<unsigned char>(text_[k]); };
      if (byte(i) < 0xc0) {
        size_t j = i;
        while (j > 0 && byte(j - 1) >= 0x80 && byte(j - 1) < 0xc0) --j;
        if (j > 0 && byte(j - 1) >= 0xc0) i = j - 1;
      }
      Fail(i, absl::StrFormat("invalid UTF-8 byte 0x%02x inside a string", byte(i)));
      return;
    }
    if (words.find("surrogate") != std::string::npos) {
      // A lone surrogate encodes no character: refused (as serde_json, which HF tokenizers
      // uses, refuses it) rather than replaced, so no two spellings mean one token.
      size_t at = read;
      for (size_t i = std::min(read, text_.size()); i-- > 0;) {
        if (i + 3 < text_.size() &&
            (text_.substr(i, 3) == "\\ud" || text_.substr(i, 3) == "\\uD")) {
          const char c = text_[i + 3];
          if ((c >= '8' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
            at = i;
            break;
          }
        }
      }
      Fail(at, "lone UTF-16 surrogate in a \\u escape");
      return;
    }
    if (words.find("control character") != std::string::npos && read > 0) {
      Fail(read - 1, "control character inside a string");
      return;
    }
    // The token the parser stopped at.
    size_t at = read > 0 ? read - 1 : 0;
    if (at < text_.size() && IsTokenChar(text_[at])) {
      while (at > 0 && IsTokenChar(text_[at - 1])) --at;
      // Python's json writes NaN and Infinity, but they are not JSON, and a non-finite
      // rope_theta or rms_norm_eps would run and silently give wrong results.
      const absl::string_view token = text_.substr(at);
      if (absl::StartsWith(token, "NaN") || absl::StartsWith(token, "Infinity") ||
          absl::StartsWith(token, "-Infinity")) {
        Fail(at, "NaN and Infinity are not JSON numbers");
        return;
      }
    } else if (!last_token.empty() && last_token.find("<U+") == std::string::npos) {
      at = TokenStart(last_token);
    }
    // nlohmann's own words, without its "[json.exception...] parse error at ...: " prefix.
    std::string what = message;
    if (size_t column = what.find("column "); column != std::string::npos) {
      if (size_t colon = what.find(": ", column); colon != std::string::npos) {
        what = what.substr(colon + 2);
      }
    } else if (size_t bracket = what.find("] "); bracket != std::string::npos) {
      what = what.substr(bracket + 2);
    }
    Fail(at, what);
  }

  absl::string_view text_;
  absl::string_view source_;
  const char** cursor_ = nullptr;
  Json root_;
  std::vector<Json*> stack_;
  std::string key_;
  absl::Status error_;
};

absl::StatusOr<Json> ParseJson(absl::string_view text, absl::string_view source) {
  JsonBuilder builder(text, source);
  return builder.Parse();
}

namespace {

absl::Status FieldError(absl::string_view source, absl::string_view key, absl::string_view want,
                        const Json& got) {
  return absl::InvalidArgumentError(
      absl::StrCat(source, ": field \"", key, "\" must be ", want, ", got ", got.Shown(),
                   got.offset() >= 0 ? absl::StrCat(" (byte ", got.offset(), ")") : ""));
}

}  // namespace

absl::StatusOr<int64_t> JsonGetInt(const Json& obj, absl::string_view key,
                                   absl::string_view source) {
  const Json* v = obj.Find(key);
  if (v == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": required field \"", key, "\" is missing"));
  }
  if (!v->is_integer()) return FieldError(source, key, "an integer", *v);
  return v->int_value();
}

absl::StatusOr<int64_t> JsonGetIntOr(const Json& obj, absl::string_view key, int64_t fallback,
                                     absl::string_view source) {
  const Json* v = obj.Find(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_integer()) return FieldError(source, key, "an integer", *v);
  return v->int_value();
}

absl::StatusOr<double> JsonGetNumber(const Json& obj, absl::string_view key,
                                     absl::string_view source) {
  const Json* v = obj.Find(key);
  if (v == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": required field \"", key, "\" is missing"));
  }
  if (!v->is_number()) return FieldError(source, key, "a number", *v);
  return v->number_value();
}

absl::StatusOr<double> JsonGetNumberOr(const Json& obj, absl::string_view key, double fallback,
                                       absl::string_view source) {
  const Json* v = obj.Find(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_number()) return FieldError(source, key, "a number", *v);
  return v->number_value();
}

absl::StatusOr<bool> JsonGetBoolOr(const Json& obj, absl::string_view key, bool fallback,
                                   absl::string_view source) {
  const Json* v = obj.Find(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_bool()) return FieldError(source, key, "true or false", *v);
  return v->bool_value();
}

absl::StatusOr<std::string> JsonGetString(const Json& obj, absl::string_view key,
                                          absl::string_view source) {
  const Json* v = obj.Find(key);
  if (v == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": required field \"", key, "\" is missing"));
  }
  if (!v->is_string()) return FieldError(source, key, "a string", *v);
  return v->string_value();
}

absl::StatusOr<std::string> JsonGetStringOr(const Json& obj, absl::string_view key,
                                            absl::string_view fallback, absl::string_view source) {
  const Json* v = obj.Find(key);
  if (v == nullptr || v->is_null()) return std::string(fallback);
  if (!v->is_string()) return FieldError(source, key, "a string", *v);
  return v->string_value();
}

}  // namespace gisp
