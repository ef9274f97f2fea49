#include "gisp/base/json.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

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

void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

namespace {

void AppendNumber(double d, std::string* out) {
  if (!std::isfinite(d)) {  // JSON has no NaN or infinity
    out->append("null");
    return;
  }
  // Shortest representation that round-trips.
  for (int precision = 6; precision <= 17; ++precision) {
    std::string s = absl::StrFormat("%.*g", precision, d);
    double back = 0;
    if (absl::SimpleAtod(s, &back) && back == d) {
      // Keep a non-integer number non-integer when read back ("-0" would come back as the
      // integer 0, losing the sign; found by tools/fuzz/json_fuzzer).
      if (s.find_first_of(".en") == std::string::npos) s.append(".0");
      out->append(s);
      return;
    }
  }
  absl::StrAppendFormat(out, "%.17g", d);
}

void Newline(std::string* out, int indent, int depth) {
  if (indent < 0) return;
  out->push_back('\n');
  out->append(static_cast<size_t>(indent * depth), ' ');
}

}  // namespace

void Json::DumpTo(std::string* out, int indent, int depth) const {
  switch (type_) {
    case Type::kNull:
      out->append("null");
      break;
    case Type::kBool:
      out->append(bool_ ? "true" : "false");
      break;
    case Type::kNumber:
      if (is_integer_) {
        absl::StrAppend(out, integer_);
      } else {
        AppendNumber(number_, out);
      }
      break;
    case Type::kString:
      AppendJsonString(string_, out);
      break;
    case Type::kArray: {
      out->push_back('[');
      for (size_t i = 0; i < array_.size(); ++i) {
        if (i > 0) out->append(indent < 0 ? "," : ",");
        Newline(out, indent, depth + 1);
        array_[i].DumpTo(out, indent, depth + 1);
      }
      if (!array_.empty()) Newline(out, indent, depth);
      out->push_back(']');
      break;
    }
    case Type::kObject: {
      out->push_back('{');
      for (size_t i = 0; i < object_.size(); ++i) {
        if (i > 0) out->push_back(',');
        Newline(out, indent, depth + 1);
        AppendJsonString(object_[i].first, out);
        out->append(indent < 0 ? ":" : ": ");
        object_[i].second.DumpTo(out, indent, depth + 1);
      }
      if (!object_.empty()) Newline(out, indent, depth);
      out->push_back('}');
      break;
    }
  }
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

std::string Json::Dump(int indent) const {
  std::string out;
  DumpTo(&out, indent, 0);
  return out;
}

class JsonParser {
 public:
  JsonParser(absl::string_view text, absl::string_view source) : text_(text), source_(source) {}

  absl::StatusOr<Json> ParseDocument() {
    Json value;
    SkipSpace();
    if (!ParseValue(&value, 0)) return error_;
    SkipSpace();
    if (pos_ != text_.size()) {
      Fail("unexpected text after the JSON value");
      return error_;
    }
    return value;
  }

 private:
  static constexpr int kMaxDepth = 256;
  static constexpr size_t kMaxLiteralShown = 40;

  bool Fail(absl::string_view what) {
    int line = 1;
    int column = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    error_ = absl::InvalidArgumentError(
        absl::StrCat(source_, ":", line, ":", column, ": invalid JSON: ", what));
    return false;
  }

  void SkipSpace() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
        ++pos_;
      } else {
        break;
      }
    }
  }

  bool Consume(absl::string_view word) {
    if (text_.substr(pos_, word.size()) == word) {
      pos_ += word.size();
      return true;
    }
    return false;
  }

  bool ParseValue(Json* out, int depth) {
    if (depth > kMaxDepth) return Fail("nesting is too deep");
    if (pos_ >= text_.size()) return Fail("unexpected end of input");
    char c = text_[pos_];
    switch (c) {
      case '{':
        return ParseObject(out, depth);
      case '[':
        return ParseArray(out, depth);
      case '"': {
        std::string s;
        if (!ParseString(&s)) return false;
        *out = Json::String(std::move(s));
        return true;
      }
      case 't':
        if (Consume("true")) {
          *out = Json::Bool(true);
          return true;
        }
        return Fail("unknown literal");
      case 'f':
        if (Consume("false")) {
          *out = Json::Bool(false);
          return true;
        }
        return Fail("unknown literal");
      case 'n':
        if (Consume("null")) {
          *out = Json();
          return true;
        }
        return Fail("unknown literal");
      case 'N':
      case 'I':
        // Python's json writes NaN and Infinity, but they are not JSON, and a non-finite
        // rope_theta or rms_norm_eps would run and silently give wrong results.
        if (text_.substr(pos_, 3) == "NaN" || text_.substr(pos_, 8) == "Infinity") {
          return Fail("NaN and Infinity are not JSON numbers");
        }
        return Fail("unknown literal");
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
        return Fail(absl::StrCat("unexpected character '", std::string(1, c), "'"));
    }
  }

  bool ParseNumber(Json* out) {
    const size_t start = pos_;
    if (text_[pos_] == '-') {
      ++pos_;
      if (Consume("Infinity")) {
        pos_ = start;
        return Fail("NaN and Infinity are not JSON numbers");
      }
    }
    bool integer = true;
    auto digits = [&]() {
      size_t begin = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ > begin;
    };
    const size_t int_start = pos_;
    if (!digits()) return Fail("malformed number");
    if (text_[int_start] == '0' && pos_ - int_start > 1) {
      pos_ = int_start;
      return Fail("number with a leading zero");
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      integer = false;
      ++pos_;
      if (!digits()) return Fail("malformed number");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      integer = false;
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digits()) return Fail("malformed number");
    }
    absl::string_view literal = text_.substr(start, pos_ - start);
    int64_t i = 0;
    if (integer && absl::SimpleAtoi(literal, &i)) {
      *out = Json::Int(i);
      return true;
    }
    double d = 0;
    if (!absl::SimpleAtod(literal, &d) || !std::isfinite(d)) {
      pos_ = start;
      return Fail(absl::StrCat("number ", ShortLiteral(literal), " is out of range"));
    }
    out->type_ = Json::Type::kNumber;
    out->number_ = d;
    out->is_integer_ = false;
    // Kept so errors show the number as written ("1.92e2", a 30-digit integer), not as
    // re-formatted (192, 1e+29).
    out->string_ = std::string(literal.substr(0, kMaxLiteralShown + 1));
    return true;
  }

  // The first digits of a long literal and its length, so a 400-digit number stays readable.
  static std::string ShortLiteral(absl::string_view literal) {
    if (literal.size() <= kMaxLiteralShown) return std::string(literal);
    return absl::StrCat(literal.substr(0, kMaxLiteralShown), "... (", literal.size(),
                        " characters)");
  }

  // Length of the longest valid UTF-8 sequence at the start of `s` (1 to 4), or 0 when it is
  // not valid UTF-8: overlong forms, surrogates and code points above U+10FFFF are invalid.
  static size_t Utf8SequenceLength(absl::string_view s) {
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char b0 = byte(0);
    if (b0 < 0x80) return 1;
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      n = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      n = 3;
      if (b0 == 0xe0) lo = 0xa0;  // overlong
      if (b0 == 0xed) hi = 0x9f;  // UTF-16 surrogates
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      n = 4;
      if (b0 == 0xf0) lo = 0x90;  // overlong
      if (b0 == 0xf4) hi = 0x8f;  // above U+10FFFF
    } else {
      return 0;
    }
    if (s.size() < n) return 0;
    if (byte(1) < lo || byte(1) > hi) return 0;
    for (size_t i = 2; i < n; ++i) {
      if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
    }
    return n;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  bool ParseHex4(uint32_t* cp) {
    if (pos_ + 4 > text_.size()) return Fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return Fail("bad hex digit in \\u escape");
      }
    }
    *cp = v;
    return true;
  }

  bool ParseString(std::string* out) {
    ++pos_;  // opening quote
    while (true) {
      // Fast path: copy the run up to the next quote or backslash.
      size_t run = pos_;
      while (run < text_.size() && text_[run] != '"' && text_[run] != '\\') {
        const unsigned char c = static_cast<unsigned char>(text_[run]);
        if (c < 0x20) {
          pos_ = run;
          return Fail("control character inside a string");
        }
        if (c < 0x80) {
          ++run;
          continue;
        }
        // Strings reach file names, tokens and error messages: only valid UTF-8 (as JSON and
        // Python's json require) gets in.
        const size_t n = Utf8SequenceLength(text_.substr(run));
        if (n == 0) {
          pos_ = run;
          return Fail(absl::StrFormat("invalid UTF-8 byte 0x%02x inside a string", c));
        }
        run += n;
      }
      out->append(text_.data() + pos_, run - pos_);
      pos_ = run;
      if (pos_ >= text_.size()) return Fail("unterminated string");
      if (text_[pos_] == '"') {
        ++pos_;
        return true;
      }
      ++pos_;  // backslash
      if (pos_ >= text_.size()) return Fail("unterminated string");
      char e = text_[pos_++];
      switch (e) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          const size_t escape = pos_ - 2;
          uint32_t cp = 0;
          if (!ParseHex4(&cp)) return false;
          // A lone surrogate encodes no character: refused (as serde_json, which HF tokenizers
          // uses, refuses it) rather than replaced, so no two spellings mean one token.
          if (cp >= 0xd800 && cp < 0xdc00) {  // high surrogate: expect the low half
            uint32_t low = 0;
            if (text_.substr(pos_, 2) == "\\u") {
              pos_ += 2;
              if (!ParseHex4(&low)) return false;
            }
            if (low < 0xdc00 || low >= 0xe000) {
              pos_ = escape;
              return Fail("lone UTF-16 surrogate in a \\u escape");
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          } else if (cp >= 0xdc00 && cp < 0xe000) {
            pos_ = escape;
            return Fail("lone UTF-16 surrogate in a \\u escape");
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          --pos_;
          return Fail("unknown escape in string");
      }
    }
  }

  bool ParseArray(Json* out, int depth) {
    ++pos_;
    *out = Json::MakeArray();
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipSpace();
      Json item;
      if (!ParseValue(&item, depth + 1)) return false;
      out->array_.push_back(std::move(item));
      SkipSpace();
      if (pos_ >= text_.size()) return Fail("unterminated array");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return Fail("expected ',' or ']' in array");
    }
  }

  bool ParseObject(Json* out, int depth) {
    ++pos_;
    *out = Json::MakeObject();
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') return Fail("expected a string key");
      std::string key;
      if (!ParseString(&key)) return false;
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ':') return Fail("expected ':' after key");
      ++pos_;
      SkipSpace();
      Json value;
      if (!ParseValue(&value, depth + 1)) return false;
      out->object_.emplace_back(std::move(key), std::move(value));
      SkipSpace();
      if (pos_ >= text_.size()) return Fail("unterminated object");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return Fail("expected ',' or '}' in object");
    }
  }

  absl::string_view text_;
  absl::string_view source_;
  size_t pos_ = 0;
  absl::Status error_;
};

absl::StatusOr<Json> ParseJson(absl::string_view text, absl::string_view source) {
  JsonParser parser(text, source);
  return parser.ParseDocument();
}

namespace {

absl::Status FieldError(absl::string_view source, absl::string_view key, absl::string_view want,
                        const Json& got) {
  return absl::InvalidArgumentError(
      absl::StrCat(source, ": field \"", key, "\" must be ", want, ", got ", got.Shown()));
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
