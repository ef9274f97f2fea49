// Known answers for the persisted fingerprints. Records store the model's and the calibration
// data's fingerprints and refuse to resume or materialize against anything else, so a change to
// the hash (its constants, the byte order, what is fed in) would make every record written by an
// earlier build unusable. These fixed inputs and fixed hex strings catch such a change; if the
// format is ever changed on purpose, bump kRecordFormatVersion and keep reading the old one.
#include <cstdint>
#include <string>
#include <vector>

#include "gisp/base/hash.h"
#include "gisp/io/checkpoint.h"
#include "gisp/prune/fingerprint.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

std::string HashOf(const std::string& bytes) {
  Fingerprint64 f;
  f.Update(bytes);
  return f.Hex();
}

TEST(FingerprintKnownAnswers, Bytes) {
  EXPECT_EQ(HashOf(""), "e220a8397b1dcdaf");
  EXPECT_EQ(HashOf("a"), "671a17c653bf1eb8");
  EXPECT_EQ(HashOf("gisp"), "1918182a5fb8e9e1");
  std::string pattern;
  for (int i = 0; i < 1000; ++i) pattern.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  EXPECT_EQ(HashOf(pattern), "aad18ac1748544a5");
  Fingerprint64 f;
  f.UpdateInt(-3);
  f.UpdateDouble(0.1);
  f.Update("layers");
  EXPECT_EQ(f.Hex(), "e2886ad4c5244192");
}

TEST(FingerprintKnownAnswers, EmbeddedModel) {
  auto ckpt = LoadCheckpoint("testdata/tiny/model");
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  auto fp = FingerprintHostWeights(ckpt->config, ckpt->weights);
  ASSERT_TRUE(fp.ok()) << fp.status();
  EXPECT_EQ(*fp, "b6f06d56219313cd");
}

}  // namespace
}  // namespace gisp
