// Known answers for the persisted fingerprints. Records store the model's and the calibration
// data's fingerprints and refuse to resume or materialize against anything else, so a change to
// the hash or to what is fed in (docs/formats.md, "Fingerprints") would make every record written
// by an earlier build unusable. These fixed inputs and fixed hex strings catch such a change; the
// byte-level answers are XXH3-128's, as PyPI xxhash 4.1 (xxHash 0.8.4) prints them with
// xxh3_128_hexdigest, and tools/consumers/test_fingerprint.py recomputes every value here
// independently. If the format is ever changed on purpose, bump kRecordFormatVersion.
#include "gisp/prune/fingerprint.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gisp/base/hash.h"
#include "gisp/data/sequences.h"
#include "gisp/io/checkpoint.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

std::string HashOf(const std::string& bytes) {
  Fingerprint f;
  f.Update(bytes);
  return f.Hex();
}

TEST(FingerprintKnownAnswers, Bytes) {
  // XXH3-128 of the empty input, from xxHash's own test vectors.
  EXPECT_EQ(HashOf(""), "99aa06d3014798d86001c324468d497f");
  EXPECT_EQ(HashOf("a"), "a96faf705af16834e6c632b61e964e1f");
  EXPECT_EQ(HashOf("gisp"), "c7ca9f5037c66bc8000800dbe50ecb2a");
  std::string pattern;
  for (int i = 0; i < 1000; ++i) pattern.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  EXPECT_EQ(HashOf(pattern), "622239c5c47a6910571d5cbfef44331b");
  // The framed encodings: struct.pack('<q', -3) + struct.pack('<d', 0.1) +
  // struct.pack('<q', 6) + b'layers'.
  Fingerprint f;
  f.UpdateInt(-3);
  f.UpdateDouble(0.1);
  f.UpdateString("layers");
  EXPECT_EQ(f.Hex(), "86f7c5cd0ed54e41a195cb04ba463934");
}

// The same values as tools/consumers/test_fingerprint.py computes from docs/formats.md alone
// (PyPI xxhash and numpy): every model shape and storage dtype the fixtures cover (bf16, f16,
// sharded, tied, q/k/v biases, Llama q/k/v/o and MLP biases, llama3 RoPE scaling, explicit
// head_dim).
TEST(FingerprintKnownAnswers, Models) {
  const struct {
    const char* dir;
    const char* fingerprint;
  } models[] = {
      {"testdata/tiny/model", "9d59d371b93aa953cc071dc7342fc2e9"},
      {"testdata/llama/llama2_mha_f32", "b30e84f3bf6887a22db5504a0d975a46"},
      {"testdata/llama/llama3_gqa_headdim_f32", "6da8937d4efb0d6fda9b2421694eb2d1"},
      {"testdata/llama/llama_linear_mqa_f16_tied", "42db7a2d54bcce55bf0f904f47082e14"},
      {"testdata/llama/llama_sharded_gqa_f32", "465181ca48330fe5d55854027bb65325"},
      {"testdata/llama/mistral_gqa_bf16", "9ba636eca7476ce92c4fbcc4bfe48f66"},
      {"testdata/llama/qwen2_bias_tied_f32", "9f56b0be6566eca7a0d0e16d61143560"},
      {"testdata/llama/llama_bias_gqa_f32", "b6f473e360692458541fccf5dce7b8d4"},
  };
  for (const auto& m : models) {
    auto ckpt = LoadCheckpoint(m.dir);
    ASSERT_TRUE(ckpt.ok()) << ckpt.status();
    auto fp = FingerprintHostWeights(ckpt->config, ckpt->weights);
    ASSERT_TRUE(fp.ok()) << fp.status();
    EXPECT_EQ(*fp, m.fingerprint) << m.dir;
  }
}

TEST(FingerprintKnownAnswers, CalibrationBatches) {
  // One batch of two rows, the second padded (token 0, target -1, weight 0); each labelled token
  // weighs bs / (n * labelled) = 2 / (2 * 4). The stream, in Python:
  //   s = b"gisp.calibration.v2"; q = lambda v: struct.pack("<q", v)
  //   q(len(s)) + s + q(2) + q(3) + struct.pack("<6i", 1, 5, 9, 1, 7, 0)
  //     + struct.pack("<6i", 5, 9, -1, 7, 2, -1) + struct.pack("<6f", .25, .25, 0, .25, .25, 0)
  std::vector<LabelledSequence> seqs(2);
  seqs[0].tokens = {1, 5, 9};
  seqs[0].targets = {5, 9, -1};
  seqs[1].tokens = {1, 7};
  seqs[1].targets = {7, 2};
  auto b = MakeCalibrationBatches(seqs, Objective::kLm, /*batch_size=*/2, /*pad_id=*/0);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->batches.size(), 1u);
  EXPECT_EQ(b->batches[0].weights.f32()[0], 0.25f);
  EXPECT_EQ(b->fingerprint, "558da3a98b8cba37396612912387ef9f");
}

}  // namespace
}  // namespace gisp
