// One spelling per enum value, shared by every reader and writer of names (command-line flags,
// the C API, records, messages). An enum that has names declares one table of {value, name}
// pairs next to its definition and converts through NameOf / ParseName, so a name is spelled in
// exactly one place and a misspelled one gets the same message everywhere.
#ifndef GISP_BASE_ENUM_NAMES_H_
#define GISP_BASE_ENUM_NAMES_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace gisp {

template <typename E>
struct EnumName {
  E value;
  const char* name;
};

// The name of `value`, or "" for a value the table does not list (a corrupt or future value).
template <typename E, size_t N>
const char* NameOf(const EnumName<E> (&table)[N], E value) {
  for (const EnumName<E>& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return "";
}

// "a, b or c": the table's names, for messages.
template <typename E, size_t N>
std::string NameList(const EnumName<E> (&table)[N]) {
  std::string out;
  for (size_t i = 0; i < N; ++i) {
    absl::StrAppend(&out, i == 0 ? "" : (i + 1 == N ? " or " : ", "), table[i].name);
  }
  return out;
}

// The value named `name`; InvalidArgument "<what> must be a, b or c, got "x"" otherwise.
template <typename E, size_t N>
absl::StatusOr<E> ParseName(const EnumName<E> (&table)[N], absl::string_view what,
                            absl::string_view name) {
  for (const EnumName<E>& entry : table) {
    if (name == entry.name) return entry.value;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(what, " must be ", NameList(table), ", got \"", name, "\""));
}

}  // namespace gisp

#endif  // GISP_BASE_ENUM_NAMES_H_
