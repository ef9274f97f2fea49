// gisp's JSON value for config.json, safetensors headers, tokenizer.json, JSONL data and the
// files exports write. Parsing and serialisation are nlohmann::json's (Debian's
// nlohmann-json3-dev, see docs/design.md); this value type adds what gisp needs on top: errors
// that name the file, the line:column and the byte offset, gisp's strictness rules (no leading
// zeros, NaN/Infinity, invalid UTF-8, lone surrogates, out-of-range numbers), integers kept exact
// beyond 2^53, objects in document order with an index for large ones, and each parsed value's
// byte offset for field errors.
#ifndef GISP_BASE_JSON_H_
#define GISP_BASE_JSON_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace gisp {

class Json {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<Json>;
  // Objects keep insertion order (for faithful round trips and stable output).
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;  // null
  static Json Bool(bool b);
  static Json Number(double d);
  static Json Int(int64_t i);
  static Json String(std::string s);
  static Json MakeArray(Array items = {});
  static Json MakeObject(Object members = {});

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  // Accessors; the caller checks the type first (they return a neutral value otherwise).
  bool bool_value() const { return bool_; }
  double number_value() const { return number_; }
  // True when the number was written as an integer (no fraction or exponent) that fits int64.
  bool is_integer() const { return type_ == Type::kNumber && is_integer_; }
  int64_t int_value() const { return integer_; }
  const std::string& string_value() const { return string_; }
  const Array& array() const { return array_; }
  Array& mutable_array() { return array_; }
  const Object& object() const { return object_; }

  // Object lookup: nullptr when absent or when this is not an object. Linear for small objects,
  // indexed for large ones (tokenizer vocabularies).
  const Json* Find(absl::string_view key) const;
  // Adds or replaces a member (this must be an object).
  void Set(std::string key, Json value);
  // Appends to an array.
  void Append(Json value) { array_.push_back(std::move(value)); }

  // Serializes. indent < 0: compact one line; otherwise pretty with that many spaces.
  std::string Dump(int indent = -1) const;
  // For error messages: a number as it was written in the parsed text ("1.92e2" rather than
  // 192), anything else compact and cut to about 200 characters.
  std::string Shown() const;
  // Byte offset of the value in the text it was parsed from; -1 for values built in code.
  int64_t offset() const { return offset_; }

 private:
  void BuildIndex() const;

  Type type_ = Type::kNull;
  bool bool_ = false;
  bool is_integer_ = false;
  double number_ = 0.0;
  int64_t integer_ = 0;
  int64_t offset_ = -1;
  std::string string_;
  Array array_;
  Object object_;
  mutable std::shared_ptr<std::map<std::string, size_t, std::less<>>> index_;

  friend class JsonBuilder;
};

// Parses one JSON document. `source` names the input in error messages ("config.json").
// Errors are InvalidArgument: "<source>:<line>:<column>: invalid JSON: <what> (byte <offset>)".
absl::StatusOr<Json> ParseJson(absl::string_view text, absl::string_view source);

// Appends `s` as a JSON string literal (with quotes and escapes) to `out`.
void AppendJsonString(absl::string_view s, std::string* out);

// Typed getters for required / optional object members. Errors name `source`, the key and, for
// parsed values, the byte offset, e.g.
// "config.json: field \"hidden_size\" must be an integer, got 1.92e2 (byte 16)".
absl::StatusOr<int64_t> JsonGetInt(const Json& obj, absl::string_view key,
                                   absl::string_view source);
absl::StatusOr<int64_t> JsonGetIntOr(const Json& obj, absl::string_view key, int64_t fallback,
                                     absl::string_view source);
absl::StatusOr<double> JsonGetNumber(const Json& obj, absl::string_view key,
                                     absl::string_view source);
absl::StatusOr<double> JsonGetNumberOr(const Json& obj, absl::string_view key, double fallback,
                                       absl::string_view source);
absl::StatusOr<bool> JsonGetBoolOr(const Json& obj, absl::string_view key, bool fallback,
                                   absl::string_view source);
absl::StatusOr<std::string> JsonGetString(const Json& obj, absl::string_view key,
                                          absl::string_view source);
absl::StatusOr<std::string> JsonGetStringOr(const Json& obj, absl::string_view key,
                                            absl::string_view fallback, absl::string_view source);

}  // namespace gisp

#endif  // GISP_BASE_JSON_H_
