// gisp's tokenizers against the reference Python libraries: every case in
// testdata/tokenizers/<name>/cases.json (made by tools/tokenizer_fixtures/
// make_tokenizer_fixtures.py with PyPI `tokenizers` and `sentencepiece`) must give identical
// ids with and without special tokens and the same decoded text.
#include "gisp/io/tokenizer/tokenizer.h"

#include <chrono>
#include <cstdio>

#include "gisp/base/file.h"
#include "gisp/base/json.h"
#include "gisp/io/tokenizer/unicode.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

std::vector<int32_t> Ids(const Json& array) {
  std::vector<int32_t> out;
  for (const Json& v : array.array()) out.push_back(static_cast<int32_t>(v.int_value()));
  return out;
}

void CheckCases(const Tokenizer& tok, const std::string& cases_path) {
  auto text = ReadFile(cases_path);
  ASSERT_TRUE(text.ok()) << text.status();
  auto cases = ParseJson(*text, cases_path);
  ASSERT_TRUE(cases.ok()) << cases.status();
  int checked = 0;
  for (const Json& c : cases->array()) {
    const std::string& input = c.Find("text")->string_value();
    const std::string shown = input.substr(0, 60);
    auto with = tok.Encode(input, true);
    auto without = tok.Encode(input, false);
    ASSERT_TRUE(with.ok() && without.ok()) << shown;
    EXPECT_EQ(*with, Ids(*c.Find("ids"))) << "text: " << shown;
    EXPECT_EQ(*without, Ids(*c.Find("ids_no_special"))) << "text: " << shown;
    auto decoded = tok.Decode(*without, false);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, c.Find("decoded")->string_value()) << "text: " << shown;
    ++checked;
  }
  EXPECT_GE(checked, 20);
}

class HfBpeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(HfBpeTest, MatchesHuggingFaceTokenizers) {
  const std::string dir = "testdata/tokenizers/" + GetParam();
  auto tok = Tokenizer::Load(dir);
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->kind(), "hf-bpe");
  CheckCases(**tok, dir + "/cases.json");
}

INSTANTIATE_TEST_SUITE_P(Styles, HfBpeTest,
                         ::testing::Values("llama3_bpe", "qwen2_bpe", "gpt2_bpe"));

TEST(SentencePieceTest, MatchesSentencePieceLibrary) {
  auto tok = Tokenizer::Load("testdata/tiny/model");
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->kind(), "sentencepiece");
  EXPECT_EQ((*tok)->bos_id(), 1);
  EXPECT_EQ((*tok)->eos_id(), 2);
  EXPECT_EQ((*tok)->vocab_size(), 3072);
  CheckCases(**tok, "testdata/tokenizers/tiny_sentencepiece/cases.json");
}

TEST(TokenizerTest, SpecialTokensAndDecodeSkipping) {
  auto tok = Tokenizer::Load("testdata/tokenizers/llama3_bpe");
  ASSERT_TRUE(tok.ok());
  auto ids = (*tok)->Encode("hi<|eot_id|>", true);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->front(), (*tok)->bos_id());
  auto text = (*tok)->Decode(*ids, true);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "hi");
  EXPECT_FALSE((*tok)->Decode({-5}, false).ok());
}

TEST(TokenizerTest, NfcComposesAndReorders) {
  // e + combining acute -> U+00E9; combining marks reordered by class before composing.
  auto nfc = unicode::Nfc({'e', 0x0301});
  EXPECT_EQ(nfc, (std::vector<uint32_t>{0x00E9}));
  auto hangul = unicode::Nfc({0x1100, 0x1161, 0x11A8});
  EXPECT_EQ(hangul, (std::vector<uint32_t>{0xAC01}));
  auto ordered = unicode::Nfc({'a', 0x0323, 0x0302});  // dot below (220) before circumflex (230)
  EXPECT_EQ(ordered, (std::vector<uint32_t>{0x1EAD}));
}

std::string TempFile(const std::string& name, const std::string& contents) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = JoinPath(dir ? dir : "/tmp", name);
  EXPECT_TRUE(WriteFileAtomic(path, contents).ok());
  return path;
}

TEST(TokenizerErrorsTest, BadFilesNameTheFileAndField) {
  auto missing = Tokenizer::Load("/nonexistent/dir");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/dir"), std::string::npos);
  auto garbage = Tokenizer::LoadHfJson(TempFile("garbage.json", "{not json"));
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.status().message().find("garbage.json"), std::string::npos);
  auto wordpiece = Tokenizer::LoadHfJson(
      TempFile("wp.json", R"({"model": {"type": "WordPiece", "vocab": {}}})"));
  ASSERT_FALSE(wordpiece.ok());
  EXPECT_NE(wordpiece.status().message().find("model.type"), std::string::npos)
      << wordpiece.status();
  auto pattern = Tokenizer::LoadHfJson(TempFile("pat.json", R"({"model": {"type": "BPE",
      "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": "\\w+"}}, {"type": "ByteLevel", "use_regex": false}]}})"));
  ASSERT_FALSE(pattern.ok());
  EXPECT_NE(pattern.status().message().find("\\w+"), std::string::npos) << pattern.status();
  auto sp = Tokenizer::LoadSentencePiece(TempFile("bad.model", "not a model"));
  ASSERT_FALSE(sp.ok());
  EXPECT_NE(sp.status().message().find("bad.model"), std::string::npos);
}

TEST(TokenizerSpeedTest, ReportsThroughput) {
  auto tok = Tokenizer::Load("testdata/tokenizers/llama3_bpe");
  ASSERT_TRUE(tok.ok());
  auto text = ReadFile("testdata/tiny/calib.txt");
  ASSERT_TRUE(text.ok());
  const auto t0 = std::chrono::steady_clock::now();
  auto ids = (*tok)->Encode(*text, false);
  const double sec =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(ids.ok());
  std::printf("BPE encoder: %zu tokens from %zu bytes in %.3f s (%.0f tokens/s)\n", ids->size(),
              text->size(), sec, ids->size() / sec);
}

}  // namespace
}  // namespace gisp
