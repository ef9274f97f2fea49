// Calibration sources on bad input: every JSONL form refuses examples longer than the limit with
// the file, the line and the sizes (issue 9: multiple-choice items had no limit).
#include "gisp/data/calibration_sources.h"

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

class CalibrationSourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tok = Tokenizer::Load("testdata/tiny/model");
    ASSERT_TRUE(tok.ok()) << tok.status();
    tok_ = *std::move(tok);
  }
  std::string WriteJsonl(const std::string& name, const std::string& contents) {
    const std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
    EXPECT_TRUE(WriteFileAtomic(path, contents).ok()) << path;
    return path;
  }
  static std::string LongText() {
    std::string s;
    for (int i = 0; i < 3000; ++i) s += " and the earth";
    return s;
  }
  std::unique_ptr<Tokenizer> tok_;
};

TEST_F(CalibrationSourcesTest, MultipleChoiceLongChoiceIsRefusedWithFileAndLine) {
  const std::string path = WriteJsonl(
      "mc.jsonl",
      absl::StrCat(R"({"context": "In the", "choices": [" beginning", " end"], "label": 0})", "\n",
                   R"({"context": "Let there be", "choices": [" light", ")", LongText(),
                   R"("], "label": 0})", "\n"));
  auto items = ReadMultipleChoiceJsonl(path);
  ASSERT_TRUE(items.ok()) << items.status();
  auto short_ok = MultipleChoiceCandidates({(*items)[0]}, *tok_);
  ASSERT_TRUE(short_ok.ok()) << short_ok.status();
  EXPECT_EQ(short_ok->size(), 2u);
  auto r = MultipleChoiceCandidates(*items, *tok_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(r.status().message());
  EXPECT_NE(message.find(path + " line 2: context + choice 1 has "), std::string::npos) << message;
  EXPECT_NE(message.find("more than the limit of 2048"), std::string::npos) << message;
  // The caller's (model's) smaller limit applies too.
  auto small = MultipleChoiceCandidates({(*items)[0]}, *tok_, 2);
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.status().message().find("more than the limit of 2"), std::string::npos)
      << small.status();
}

TEST_F(CalibrationSourcesTest, QaLongAnswerIsRefusedWithFileAndLine) {
  const std::string path = WriteJsonl(
      "qa.jsonl", absl::StrCat(R"({"question": "Who?", "answer": ")", LongText(), R"("})", "\n"));
  QaOptions options;
  auto r = QaPairs(path, *tok_, options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(path + " line 1: example has "), std::string::npos)
      << r.status();
  EXPECT_NE(r.status().message().find("more than the limit of 2048"), std::string::npos)
      << r.status();
}

}  // namespace
}  // namespace gisp
