#include "gisp/base/hash.h"

#include <string>

#include "gtest/gtest.h"

namespace gisp {
namespace {

std::string H(const std::string& s) {
  Fingerprint f;
  f.Update(s);
  return f.Hex();
}

TEST(FingerprintTest, SplitUpdatesEqualOneUpdate) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7 + 3));
  Fingerprint whole;
  whole.Update(data);
  for (size_t cut1 : {0, 1, 5, 8, 13, 999}) {
    for (size_t cut2 = cut1; cut2 <= data.size(); cut2 += 97) {
      Fingerprint parts;
      parts.Update(data.substr(0, cut1));
      parts.Update(data.substr(cut1, cut2 - cut1));
      parts.Update(data.substr(cut2));
      EXPECT_EQ(parts.Hex(), whole.Hex()) << cut1 << " " << cut2;
    }
  }
}

TEST(FingerprintTest, SensitiveToContentLengthAndOrder) {
  EXPECT_NE(H("abc"), H("abd"));
  EXPECT_NE(H("ab"), H(std::string("ab\0", 3)));
  EXPECT_NE(H(std::string(16, '\0')), H(std::string(24, '\0')));
  EXPECT_NE(H("12345678abcdefgh"), H("abcdefgh12345678"));
  EXPECT_EQ(H("gisp"), H("gisp"));
  Fingerprint empty;
  EXPECT_EQ(empty.Hex().size(), 32u);
}

TEST(FingerprintTest, FramedEncodings) {
  // Little-endian two's complement and IEEE-754 binary64, whatever the value.
  Fingerprint a, b;
  a.UpdateInt(-2);
  b.Update(std::string("\xfe\xff\xff\xff\xff\xff\xff\xff", 8));
  EXPECT_EQ(a.Hex(), b.Hex());
  Fingerprint c, d;
  c.UpdateDouble(1.0);
  d.Update(std::string("\0\0\0\0\0\0\xf0\x3f", 8));
  EXPECT_EQ(c.Hex(), d.Hex());
  // A string is its length then its bytes, so "ab"+"c" and "a"+"bc" differ.
  Fingerprint e, f, g;
  e.UpdateString("ab");
  e.UpdateString("c");
  f.UpdateString("a");
  f.UpdateString("bc");
  EXPECT_NE(e.Hex(), f.Hex());
  g.UpdateInt(2);
  g.Update("ab");
  g.UpdateInt(1);
  g.Update("c");
  EXPECT_EQ(e.Hex(), g.Hex());
}

TEST(FingerprintTest, CopiesCarryTheState) {
  Fingerprint a;
  a.Update("gis");
  Fingerprint b = a;
  b.Update("p");
  a.Update("p");
  EXPECT_EQ(a.Hex(), b.Hex());
  EXPECT_EQ(a.Hex(), H("gisp"));
  Fingerprint c;
  c = b;
  EXPECT_EQ(c.Hex(), H("gisp"));
}

}  // namespace
}  // namespace gisp
