// Loading, tokenizer_config.json overrides, invalid input, thread safety, errors for bad files,
// and (printed, not asserted) encoding throughput on the King James text.
#include "gisp/io/tokenizer/tokenizer.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gisp/base/file.h"
#include "gisp/base/json.h"
#include "gisp/io/tokenizer/sentencepiece_model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

using ::testing::HasSubstr;

constexpr char kLlama3[] = "testdata/tokenizers/llama3_bpe";
constexpr char kLlama2[] = "testdata/tokenizers/llama2_sp";

std::string NewDir(const std::string& name) {
  static int counter = 0;
  const char* base = std::getenv("TEST_TMPDIR");
  const std::string dir = JoinPath(base ? base : "/tmp", absl::StrCat(name, "_", counter++));
  EXPECT_TRUE(MakeDirectories(dir).ok());
  return dir;
}

void Write(const std::string& path, absl::string_view contents) {
  ASSERT_TRUE(WriteFileAtomic(path, contents).ok()) << path;
}

std::string Read(const std::string& path) {
  auto text = ReadFile(path);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

std::unique_ptr<Tokenizer> MustLoad(const std::string& dir) {
  auto tok = Tokenizer::Load(dir);
  EXPECT_TRUE(tok.ok()) << tok.status();
  return tok.ok() ? std::move(*tok) : nullptr;
}

std::vector<int32_t> MustEncode(const Tokenizer& tok, absl::string_view text, bool special) {
  auto ids = tok.Encode(text, special);
  EXPECT_TRUE(ids.ok()) << ids.status();
  return ids.ok() ? *ids : std::vector<int32_t>();
}

// (text, ids_no_special) of the first `n` non-empty cases of a fixture.
std::vector<std::pair<std::string, std::vector<int32_t>>> Cases(const std::string& dir, size_t n) {
  auto json = ParseJson(Read(dir + "/cases.json"), "cases.json");
  EXPECT_TRUE(json.ok());
  std::vector<std::pair<std::string, std::vector<int32_t>>> out;
  for (const Json& c : json->Find("cases")->array()) {
    if (out.size() == n) break;
    const Json* text = c.Find("text");
    if (text == nullptr || text->string_value().empty()) continue;
    std::vector<int32_t> ids;
    for (const Json& v : c.Find("ids_no_special")->array()) ids.push_back(v.int_value());
    out.emplace_back(text->string_value(), ids);
  }
  return out;
}

// The id tokenizer.json gives an added token.
int32_t AddedTokenId(const std::string& tokenizer_json, const std::string& content) {
  auto json = ParseJson(Read(tokenizer_json), tokenizer_json);
  EXPECT_TRUE(json.ok());
  for (const Json& t : json->Find("added_tokens")->array()) {
    if (t.Find("content")->string_value() == content) return t.Find("id")->int_value();
  }
  ADD_FAILURE() << content << " not in " << tokenizer_json;
  return -1;
}

TEST(TokenizerConfigTest, SentencePieceAddsWhatTheConfigSays) {
  const std::string dir = NewDir("sp_config");
  Write(dir + "/tokenizer.model", Read(std::string(kLlama2) + "/tokenizer.model"));
  // Without tokenizer_config.json: Llama-2's default, BOS only.
  auto plain = MustLoad(dir);
  ASSERT_NE(plain, nullptr);
  Write(dir + "/tokenizer_config.json", R"({"add_bos_token": false, "add_eos_token": true})");
  auto eos_only = MustLoad(dir);
  ASSERT_NE(eos_only, nullptr);
  for (const auto& [text, ids] : Cases(kLlama2, 10)) {
    std::vector<int32_t> bos_ids = {plain->bos_id()};
    bos_ids.insert(bos_ids.end(), ids.begin(), ids.end());
    EXPECT_EQ(MustEncode(*plain, text, true), bos_ids) << text;
    std::vector<int32_t> eos_ids = ids;
    eos_ids.push_back(eos_only->eos_id());
    EXPECT_EQ(MustEncode(*eos_only, text, true), eos_ids) << text;
    EXPECT_EQ(MustEncode(*eos_only, text, false), ids) << text;
  }
  EXPECT_EQ(plain->bos_id(), 1);
  EXPECT_EQ(plain->eos_id(), 2);
}

TEST(TokenizerConfigTest, HfJsonConfigOverridesThePostProcessor) {
  const std::string dir = NewDir("hf_config");
  const std::string json = std::string(kLlama3) + "/tokenizer.json";
  Write(dir + "/tokenizer.json", Read(json));
  Write(dir + "/tokenizer_config.json",
        R"({"add_bos_token": false, "add_eos_token": true, "eos_token": {"__type": "AddedToken",
            "content": "<|eot_id|>", "lstrip": false}, "bos_token": "<|begin_of_text|>"})");
  auto tok = MustLoad(dir);
  ASSERT_NE(tok, nullptr);
  const int32_t eot = AddedTokenId(json, "<|eot_id|>");
  EXPECT_EQ(tok->eos_id(), eot);
  EXPECT_EQ(tok->bos_id(), AddedTokenId(json, "<|begin_of_text|>"));
  for (const auto& [text, ids] : Cases(kLlama3, 10)) {
    std::vector<int32_t> want = ids;
    want.push_back(eot);
    EXPECT_EQ(MustEncode(*tok, text, true), want) << text;
  }
}

TEST(TokenizerLoadTest, DirectLoadersMatchLoad) {
  auto by_dir = MustLoad(kLlama3);
  auto by_file = Tokenizer::LoadHfJson(std::string(kLlama3) + "/tokenizer.json");
  ASSERT_TRUE(by_file.ok()) << by_file.status();
  auto sp_dir = MustLoad(kLlama2);
  auto sp_file = Tokenizer::LoadSentencePiece(std::string(kLlama2) + "/tokenizer.model");
  ASSERT_TRUE(sp_file.ok()) << sp_file.status();
  const std::string text = "In the beginning, <|eot_id|> 123 ünïcödé";
  EXPECT_EQ(MustEncode(**by_file, text, true), MustEncode(*by_dir, text, true));
  EXPECT_EQ(MustEncode(**sp_file, text, true), MustEncode(*sp_dir, text, true));
  EXPECT_EQ((*sp_file)->kind(), "sentencepiece");
  EXPECT_EQ((*by_file)->kind(), "hf-bpe");
}

TEST(TokenizerInputTest, InvalidUtf8BecomesReplacementCharacters) {
  auto tok = MustLoad(kLlama3);
  ASSERT_NE(tok, nullptr);
  // One U+FFFD per maximal ill-formed part, as Rust's from_utf8_lossy.
  EXPECT_EQ(MustEncode(*tok,
                       "a\xFF"
                       "b",
                       false),
            MustEncode(*tok,
                       "a\uFFFD"
                       "b",
                       false));
  EXPECT_EQ(MustEncode(*tok, "x\xF0\x9F\x98", false), MustEncode(*tok, "x\uFFFD", false));
  EXPECT_EQ(MustEncode(*tok, "\xED\xA0\x80", false), MustEncode(*tok, "\uFFFD\uFFFD\uFFFD", false));
  // Decoding half of a character's bytes gives U+FFFD.
  const std::vector<int32_t> ids = MustEncode(*tok, "\xF0\x9F\x98\x80", false);
  ASSERT_GE(ids.size(), 2u);  // an emoji the small vocabulary spells in bytes
  auto half = tok->Decode(absl::MakeConstSpan(ids).subspan(0, ids.size() - 1), false);
  ASSERT_TRUE(half.ok());
  EXPECT_EQ(*half, "\uFFFD");
}

TEST(TokenizerInputTest, DecodeRejectsIdsOutsideTheVocabulary) {
  for (const char* dir : {kLlama3, kLlama2}) {
    auto tok = MustLoad(dir);
    ASSERT_NE(tok, nullptr);
    for (int32_t bad : {-1, tok->vocab_size()}) {
      auto text = tok->Decode({bad}, false);
      ASSERT_FALSE(text.ok()) << dir;
      EXPECT_THAT(std::string(text.status().message()), HasSubstr(absl::StrCat(bad)));
    }
  }
}

TEST(TokenizerThreadTest, ConcurrentEncodingMatchesSequential) {
  const std::string text = Read("testdata/tiny/calib.txt").substr(0, 60000);
  for (const char* dir : {kLlama3, kLlama2, "testdata/tokenizers/qwen2_bpe"}) {
    auto reference = MustLoad(dir);
    auto shared = MustLoad(dir);  // cold cache, filled by the threads at the same time
    ASSERT_NE(shared, nullptr);
    std::vector<std::string> parts;
    for (size_t i = 0; i < text.size(); i += 7500) parts.push_back(text.substr(i, 7500));
    std::vector<std::vector<int32_t>> got(parts.size());
    std::vector<std::thread> threads;
    for (size_t t = 0; t < parts.size(); ++t) {
      threads.emplace_back([&, t] { got[t] = MustEncode(*shared, parts[t], true); });
    }
    for (std::thread& th : threads) th.join();
    for (size_t t = 0; t < parts.size(); ++t) {
      EXPECT_EQ(got[t], MustEncode(*reference, parts[t], true)) << dir << " part " << t;
    }
  }
}

// Not a timed assertion: prints tokens/s so changes in speed are visible in the test log.
TEST(TokenizerSpeedTest, ReportsThroughputOnTheBible) {
  const std::string text = Read("testdata/tiny/calib.txt");
  ASSERT_FALSE(text.empty());
  for (const char* dir : {kLlama3, "testdata/tokenizers/qwen2_bpe", kLlama2}) {
    auto tok = MustLoad(dir);
    ASSERT_NE(tok, nullptr);
    for (const char* pass : {"cold cache", "warm cache"}) {
      const auto t0 = std::chrono::steady_clock::now();
      const std::vector<int32_t> ids = MustEncode(*tok, text, false);
      const double sec =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("%-32s %s: %zu tokens from %zu bytes in %.3f s (%.2fM tokens/s)\n", dir, pass,
                  ids.size(), text.size(), sec, ids.size() / sec / 1e6);
      EXPECT_GT(ids.size(), text.size() / 8);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Errors name the file and the field.

constexpr char kMinimalJson[] = R"({
  "added_tokens": [],
  "normalizer": NORMALIZER,
  "pre_tokenizer": PRE,
  "post_processor": null,
  "decoder": DECODER,
  "model": MODEL
})";

std::string MinimalJson(const std::vector<std::pair<std::string, std::string>>& replace) {
  std::string json = absl::StrReplaceAll(
      kMinimalJson,
      {{"NORMALIZER", "null"},
       {"PRE", R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": true})"},
       {"DECODER", R"({"type": "ByteLevel"})"},
       {"MODEL", R"({"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]})"}});
  for (const auto& [from, to] : replace) json = absl::StrReplaceAll(json, {{from, to}});
  return json;
}

// Loads `json` as a tokenizer.json and returns the error message ("" if it loaded).
std::string HfError(const std::string& name, const std::string& json) {
  const std::string dir = NewDir(name);
  Write(dir + "/tokenizer.json", json);
  auto tok = Tokenizer::LoadHfJson(dir + "/tokenizer.json");
  return tok.ok() ? "" : std::string(tok.status().message());
}

TEST(TokenizerErrorTest, MinimalJsonLoads) { EXPECT_EQ(HfError("minimal", MinimalJson({})), ""); }

TEST(TokenizerErrorTest, MissingFilesAndDirectories) {
  auto missing = Tokenizer::Load("/nonexistent/model");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("/nonexistent/model"));
  const std::string empty = NewDir("empty");
  auto none = Tokenizer::Load(empty);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("tokenizer.json"));
  auto file = Tokenizer::LoadHfJson(empty + "/tokenizer.json");
  ASSERT_FALSE(file.ok());
  EXPECT_THAT(std::string(file.status().message()), HasSubstr(empty + "/tokenizer.json"));
  auto sp = Tokenizer::LoadSentencePiece(empty + "/tokenizer.model");
  ASSERT_FALSE(sp.ok());
  EXPECT_THAT(std::string(sp.status().message()), HasSubstr("tokenizer.model"));
}

TEST(TokenizerErrorTest, MalformedJsonNamesFileAndPosition) {
  const std::string message = HfError("garbage", "{\"model\": {\"type\": \"BPE\",,}");
  EXPECT_THAT(message, HasSubstr("tokenizer.json:1:"));
}

TEST(TokenizerErrorTest, UnsupportedSettingsNameTheField) {
  struct Case {
    const char* name;
    std::vector<std::pair<std::string, std::string>> replace;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"wordpiece", {{R"("type": "BPE")", R"("type": "WordPiece")"}}, {"model.type", "WordPiece"}},
      {"unigram",
       {{R"({"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]})",
         R"({"type": "Unigram", "vocab": [["a", 0.0]]})"}},
       {"model.type", "Unigram"}},
      {"nfkc",
       {{"\"normalizer\": null", R"("normalizer": {"type": "NFKC"})"}},
       {"normalizer", "NFKC"}},
      {"whitespace",
       {{R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": true})",
         R"({"type": "Whitespace"})"}},
       {"pre_tokenizer", "Whitespace"}},
      {"regex",
       {{R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": true})",
         R"({"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern":
             {"Regex": "\\w+|\\d"}, "behavior": "Isolated", "invert": false},
             {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]})"}},
       {"pre_tokenizer", "\\w+|\\d"}},
      {"metaspace",
       {{R"("decoder": {"type": "ByteLevel"})", R"("decoder": {"type": "Metaspace"})"}},
       {"decoder", "Metaspace"}},
      {"roberta",
       {{"\"post_processor\": null", R"("post_processor": {"type": "RobertaProcessing"})"}},
       {"post_processor", "RobertaProcessing"}},
      {"byte_fallback",
       {{R"("merges": ["a b"])", R"("merges": ["a b"], "byte_fallback": true)"}},
       {"model.byte_fallback"}},
      {"merge",
       {{R"("merges": ["a b"])", R"("merges": ["a b", "b c"])"}},
       {"model.merges", "entry 1", "\"c\""}},
      {"vocab", {{R"("ab": 2)", R"("ab": "two")"}}, {"model.vocab", "\"ab\""}},
  };
  for (const Case& c : cases) {
    const std::string message = HfError(c.name, MinimalJson(c.replace));
    EXPECT_THAT(message, HasSubstr("tokenizer.json")) << c.name;
    for (const std::string& want : c.expected) EXPECT_THAT(message, HasSubstr(want)) << c.name;
  }
}

// Issue 9: one huge id used to size the dense id tables (10^8 took 3-6 GB; 2^31-1 overflowed).
TEST(TokenizerErrorTest, HugeIdsAreRefusedBeforeAllocating) {
  struct Case {
    const char* name;
    std::vector<std::pair<std::string, std::string>> replace;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"vocab_1e8",
       {{R"("ab": 2)", R"("ab": 100000000)"}},
       {"field \"model.vocab\" entry \"ab\" has id 100000000, but the file defines 3 tokens "
        "(ids must be below 1030)"}},
      {"vocab_int32_max",
       {{R"("ab": 2)", R"("ab": 2147483647)"}},
       {"model.vocab", "\"ab\"", "2147483647"}},
      {"added_1e8",
       {{R"("added_tokens": [])",
         R"("added_tokens": [{"id": 100000000, "content": "<x>", "special": true}])"}},
       {"field \"added_tokens\" entry \"<x>\" has id 100000000", "defines 4 tokens"}},
      {"added_int32_max",
       {{R"("added_tokens": [])",
         R"("added_tokens": [{"id": 2147483647, "content": "<x>", "special": true}])"}},
       {"added_tokens", "2147483647"}},
      {"post_processor_1e8",
       {{"\"post_processor\": null",
         R"("post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken":
             {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
             "special_tokens": {"<s>": {"id": "<s>", "ids": [100000000], "tokens": ["<s>"]}}})"}},
       {"post_processor", "100000000"}},
  };
  for (const Case& c : cases) {
    const std::string message = HfError(c.name, MinimalJson(c.replace));
    EXPECT_THAT(message, HasSubstr("tokenizer.json: field")) << c.name;
    for (const std::string& want : c.expected) EXPECT_THAT(message, HasSubstr(want)) << c.name;
  }
  // Ids just below the limit still load (reserved ranges with gaps are legitimate).
  EXPECT_EQ(HfError("vocab_gap", MinimalJson({{R"("ab": 2)", R"("ab": 1029)"}})), "");
}

TEST(TokenizerErrorTest, BadTokenizerConfigNamesTheFile) {
  const std::string dir = NewDir("bad_config");
  Write(dir + "/tokenizer.json", MinimalJson({}));
  Write(dir + "/tokenizer_config.json", R"({"add_bos_token": "yes"})");
  auto tok = Tokenizer::Load(dir);
  ASSERT_FALSE(tok.ok());
  EXPECT_THAT(std::string(tok.status().message()), HasSubstr("tokenizer_config.json"));
  EXPECT_THAT(std::string(tok.status().message()), HasSubstr("add_bos_token"));
  Write(dir + "/tokenizer_config.json", R"({"add_bos_token": true})");  // but no BOS token
  tok = Tokenizer::Load(dir);
  ASSERT_FALSE(tok.ok());
  EXPECT_THAT(std::string(tok.status().message()), HasSubstr("add_bos_token"));
}

// Protobuf wire format, enough to write small (broken) SentencePiece models.
std::string Varint(uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7F) | 0x80));
  out.push_back(static_cast<char>(v));
  return out;
}
std::string VarintField(int number, uint64_t v) { return Varint(number << 3) + Varint(v); }
std::string BytesField(int number, const std::string& bytes) {
  return Varint((number << 3) | 2) + Varint(bytes.size()) + bytes;
}
std::string Piece(const std::string& text, int type) {
  return BytesField(1, BytesField(1, text) + VarintField(3, type));
}

std::string SpError(const std::string& name, const std::string& model) {
  const std::string dir = NewDir(name);
  Write(dir + "/tokenizer.model", model);
  auto tok = Tokenizer::Load(dir);
  return tok.ok() ? "" : std::string(tok.status().message());
}

TEST(TokenizerErrorTest, BadSentencePieceModels) {
  const std::string pieces = Piece("<unk>", 2) + Piece("<s>", 3) + Piece("</s>", 3) +
                             Piece(
                                 "\xE2\x96\x81"
                                 "a",
                                 1) +
                             Piece("a", 1);
  const std::string bpe = BytesField(2, VarintField(3, 2));
  EXPECT_EQ(SpError("sp_ok", pieces + bpe), "");
  EXPECT_THAT(SpError("sp_garbage", "this is not a model"), HasSubstr("not a SentencePiece model"));
  EXPECT_THAT(SpError("sp_empty", bpe), HasSubstr("no pieces"));
  const std::string unigram = SpError("sp_unigram", pieces);  // model_type defaults to UNIGRAM
  EXPECT_THAT(unigram, HasSubstr("tokenizer.model"));
  EXPECT_THAT(unigram, HasSubstr("model_type 1"));
  EXPECT_THAT(SpError("sp_nfkc",
                      pieces + bpe + BytesField(3, BytesField(1, "nmt_nfkc") + BytesField(2, "x"))),
              HasSubstr("nmt_nfkc"));
  EXPECT_THAT(SpError("sp_bytes", pieces + BytesField(2, VarintField(3, 2) + VarintField(35, 1))),
              HasSubstr("<0x00>"));
}

// A truncated or corrupted tokenizer.model: the error names the file and the field (by its name in
// spm_model.proto, with the byte where it starts) that does not parse.
TEST(TokenizerErrorTest, MalformedSentencePieceModelNamesFileAndField) {
  const std::string head = Piece("<unk>", 2) + Piece("<s>", 3) + Piece("</s>", 3);
  const std::string model = head + Piece("a", 1) + BytesField(2, VarintField(3, 2));
  ASSERT_EQ(SpError("sp_whole", model), "");
  const std::string prefix = "tokenizer.model: not a SentencePiece model (malformed protobuf in ";
  // Cut inside the fourth piece, and at every byte.
  EXPECT_THAT(SpError("sp_truncated", model.substr(0, head.size() + 3)),
              HasSubstr(absl::StrCat(prefix, "pieces[3] at byte ", head.size(), ")")));
  for (size_t n = 1; n < model.size(); ++n) {
    auto m = ParseSentencePieceModel(absl::string_view(model).substr(0, n), "cut.model");
    if (m.ok()) continue;  // cut between two pieces, before the trainer_spec: a BPE-less model
    EXPECT_THAT(std::string(m.status().message()),
                HasSubstr("cut.model: not a SentencePiece model"))
        << n;
  }
  // A piece whose score (fixed32) has two of its four bytes.
  const std::string short_score = BytesField(1, BytesField(1, "b") + Varint((2 << 3) | 5) + "xy");
  EXPECT_THAT(SpError("sp_short_score", head + short_score),
              HasSubstr(absl::StrCat(prefix, "pieces[3].score at byte ", head.size() + 5, ")")));
  // A trainer_spec whose model_type has no value.
  EXPECT_THAT(
      SpError("sp_no_model_type", head + BytesField(2, Varint(3 << 3))),
      HasSubstr(absl::StrCat(prefix, "trainer_spec.model_type at byte ", head.size() + 2, ")")));
  // Fields gisp does not read are skipped (self_test_data = 4, a trainer_spec field), unless they
  // are malformed too.
  const std::string unknown = BytesField(4, "anything") + BytesField(2, VarintField(4, 8000));
  EXPECT_EQ(SpError("sp_unknown_fields", model + unknown), "");
  EXPECT_THAT(SpError("sp_bad_unknown", model + Varint((9 << 3) | 1) + "1234"),
              HasSubstr(absl::StrCat(prefix, "field 9 at byte ", model.size(), ")")));
  EXPECT_THAT(SpError("sp_empty_piece", head + BytesField(1, "") + model),
              HasSubstr("not a SentencePiece model (piece 3 is empty)"));
}

// Found by tools/fuzz/sentencepiece_fuzzer: a model without a BOS piece encoded the id -1.
TEST(TokenizerErrorTest, SentencePieceWithoutBosAddsNoBos) {
  const std::string pieces = Piece("<unk>", 2) + Piece("</s>", 3) +
                             Piece(
                                 "\xE2\x96\x81"
                                 "a",
                                 1) +
                             Piece("a", 1);
  const std::string dir = NewDir("sp_no_bos");
  Write(dir + "/tokenizer.model", pieces + BytesField(2, VarintField(3, 2)));
  auto tok = Tokenizer::Load(dir);
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->bos_id(), -1);
  auto ids = (*tok)->Encode("a a", true);
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_FALSE(ids->empty());
  for (int32_t id : *ids) EXPECT_TRUE(id >= 0 && id < (*tok)->vocab_size()) << id;
}

}  // namespace
}  // namespace gisp
