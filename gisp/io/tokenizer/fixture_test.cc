// gisp's tokenizers against the reference Python libraries: every case in
// testdata/tokenizers/<name>/cases.json (written by tools/tokenizer_fixtures/
// make_tokenizer_fixtures.py with PyPI `tokenizers` and `sentencepiece`) must give identical ids
// with and without special tokens, and identical decoded text (also for every prefix of the ids
// where the case lists them, which cuts through multi-byte characters).
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gisp/base/file.h"
#include "gisp/base/json.h"
#include "gisp/io/tokenizer/tokenizer.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

std::vector<int32_t> Ids(const Json& array) {
  std::vector<int32_t> out;
  for (const Json& v : array.array()) out.push_back(static_cast<int32_t>(v.int_value()));
  return out;
}

// Printable excerpt of a case's text for failure messages.
std::string Shown(const std::string& text) {
  return absl::CEscape(text.substr(0, 80)) + (text.size() > 80 ? "..." : "");
}

class FixtureTest : public ::testing::TestWithParam<const char*> {};

TEST_P(FixtureTest, MatchesReferenceLibrary) {
  const std::string dir = std::string("testdata/tokenizers/") + GetParam();
  auto text = ReadFile(dir + "/cases.json");
  ASSERT_TRUE(text.ok()) << text.status();
  auto fixture = ParseJson(*text, dir + "/cases.json");
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  const Json* model_dir = fixture->Find("model");
  auto tok = Tokenizer::Load(model_dir != nullptr ? model_dir->string_value() : dir);
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->kind(), fixture->Find("kind")->string_value());
  EXPECT_EQ((*tok)->vocab_size(), fixture->Find("vocab_size")->int_value());
  EXPECT_EQ((*tok)->bos_id(), fixture->Find("bos_id")->int_value());
  EXPECT_EQ((*tok)->eos_id(), fixture->Find("eos_id")->int_value());
  const bool hf = (*tok)->kind() == "hf-bpe";

  int checked = 0, prefixes = 0;
  for (const Json& c : fixture->Find("cases")->array()) {
    std::string input;
    if (const Json* hex = c.Find("text_hex"); hex != nullptr) {
      input = absl::HexStringToBytes(hex->string_value());
    } else {
      input = c.Find("text")->string_value();
    }
    SCOPED_TRACE("text: " + Shown(input));
    auto with = (*tok)->Encode(input, true);
    auto without = (*tok)->Encode(input, false);
    ASSERT_TRUE(with.ok()) << with.status();
    ASSERT_TRUE(without.ok()) << without.status();
    EXPECT_EQ(*with, Ids(*c.Find("ids")));
    EXPECT_EQ(*without, Ids(*c.Find("ids_no_special")));

    // Decoding the reference ids (not ours, so a decoding bug cannot hide behind an encoding one).
    const std::vector<int32_t> ref = Ids(*c.Find("ids_no_special"));
    const std::vector<int32_t> ref_special = Ids(*c.Find("ids"));
    auto decoded = (*tok)->Decode(ref, false);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, c.Find("decoded")->string_value());
    auto skipped = (*tok)->Decode(ref_special, true);
    ASSERT_TRUE(skipped.ok()) << skipped.status();
    EXPECT_EQ(*skipped, c.Find("decoded_skip_special")->string_value());
    if (hf) {
      auto shown = (*tok)->Decode(ref_special, false);
      ASSERT_TRUE(shown.ok()) << shown.status();
      EXPECT_EQ(*shown, c.Find("decoded_with_special")->string_value());
    }
    if (const Json* list = c.Find("prefix_decodes"); list != nullptr) {
      for (size_t k = 0; k < list->array().size(); ++k) {
        auto part = (*tok)->Decode(absl::MakeConstSpan(ref).subspan(0, k + 1), false);
        ASSERT_TRUE(part.ok()) << part.status();
        EXPECT_EQ(*part, list->array()[k].string_value()) << "prefix of " << k + 1 << " ids";
        ++prefixes;
      }
    }
    ++checked;
    if (HasFatalFailure()) return;
  }
  EXPECT_GE(checked, 40);
  EXPECT_GT(prefixes, 0);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureTest,
                         ::testing::Values("llama3_bpe", "qwen2_bpe", "gpt2_bpe", "added_flags_bpe",
                                           "prefix_split_bpe", "llama2_sp", "sp_unk_unused",
                                           "tiny_sentencepiece"));

}  // namespace
}  // namespace gisp
