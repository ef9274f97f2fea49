#include "gisp/base/json.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

TEST(JsonTest, ParsesNestedDocument) {
  auto j = ParseJson(R"({"a": 1, "b": [true, null, "x\u00e9\n"], "c": {"d": -2.5e3}})", "t");
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(j->Find("a")->int_value(), 1);
  const auto& b = j->Find("b")->array();
  ASSERT_EQ(b.size(), 3u);
  EXPECT_TRUE(b[0].bool_value());
  EXPECT_TRUE(b[1].is_null());
  EXPECT_EQ(b[2].string_value(), "x\xc3\xa9\n");
  EXPECT_DOUBLE_EQ(j->Find("c")->Find("d")->number_value(), -2500.0);
  EXPECT_FALSE(j->Find("c")->Find("d")->is_integer());
}

TEST(JsonTest, KeepsLargeIntegersExact) {
  auto j = ParseJson(R"({"off": 9007199254740993})", "t");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->Find("off")->int_value(), 9007199254740993LL);
}

TEST(JsonTest, SurrogatePairs) {
  auto j = ParseJson(R"("\ud83d\ude00")", "t");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->string_value(), "\xf0\x9f\x98\x80");
}

TEST(JsonTest, ErrorsNameSourceLineAndColumn) {
  auto j = ParseJson("{\n  \"a\": 1,\n  \"b\" 2\n}", "config.json");
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("config.json:3:7"), std::string::npos)
      << j.status().message();
}

// Parse errors name the file, the line:column and the byte offset where the bad token starts.
TEST(JsonTest, ErrorsNameTheByteOffset) {
  auto j = ParseJson("{\n  \"a\": 1,\n  \"b\" 2\n}", "config.json");
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("config.json:3:7: invalid JSON: "), std::string::npos)
      << j.status().message();
  EXPECT_NE(j.status().message().find("(byte 18)"), std::string::npos) << j.status().message();
  auto utf8 = ParseJson("[\"ok\", \"x\xff\"]", "t");
  ASSERT_FALSE(utf8.ok());
  EXPECT_NE(utf8.status().message().find("t:1:10: invalid JSON: invalid UTF-8 byte 0xff "
                                         "inside a string (byte 9)"),
            std::string::npos)
      << utf8.status().message();
  // Values keep where they were parsed from; values built in code have no offset.
  auto v = ParseJson(R"({"k": [true, "s"]})", "t");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->offset(), 0);
  EXPECT_EQ(v->Find("k")->offset(), 6);
  EXPECT_EQ(v->Find("k")->array()[1].offset(), 13);
  EXPECT_EQ(Json::Int(3).offset(), -1);
}

TEST(JsonTest, RejectsTrailingGarbageAndTruncation) {
  EXPECT_FALSE(ParseJson("{} x", "t").ok());
  EXPECT_FALSE(ParseJson("{\"a\": [1, 2", "t").ok());
  EXPECT_FALSE(ParseJson("\"abc", "t").ok());
  EXPECT_FALSE(ParseJson("", "t").ok());
  EXPECT_FALSE(ParseJson("01x", "t").ok());
}

TEST(JsonTest, RejectsDeepNesting) {
  std::string deep(10000, '[');
  auto j = ParseJson(deep, "t");
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("too deep"), std::string::npos);
}

TEST(JsonTest, RoundTripsThroughDump) {
  const char* text = R"({"s":"q\"\\","n":[1,2.5,-3],"o":{"k":false}})";
  auto j = ParseJson(text, "t");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->Dump(), text);
  auto again = ParseJson(j->Dump(2), "t");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Dump(), text);
}

// Found by tools/fuzz/json_fuzzer: Dump() must be a fixed point of parse + dump.
TEST(JsonTest, NegativeZeroAndIntegralDoublesRoundTrip) {
  for (const char* text : {"-0.0", "[1.92e2,-0.0,1e300]", "192.0"}) {
    auto j = ParseJson(text, "t");
    ASSERT_TRUE(j.ok()) << text;
    auto again = ParseJson(j->Dump(), "dumped");
    ASSERT_TRUE(again.ok()) << j->Dump();
    EXPECT_EQ(again->Dump(), j->Dump()) << text;
  }
  EXPECT_EQ(ParseJson("-0.0", "t")->Dump(), "-0.0");
}

TEST(JsonTest, FindUsesIndexForLargeObjects) {
  Json o = Json::MakeObject();
  for (int i = 0; i < 100; ++i) o.Set("k" + std::to_string(i), Json::Int(i));
  ASSERT_NE(o.Find("k77"), nullptr);
  EXPECT_EQ(o.Find("k77")->int_value(), 77);
  EXPECT_EQ(o.Find("nope"), nullptr);
}

TEST(JsonTest, TypedGettersNameTheField) {
  auto j = ParseJson(R"({"hidden_size": "big"})", "config.json");
  ASSERT_TRUE(j.ok());
  auto v = JsonGetInt(*j, "hidden_size", "config.json");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("hidden_size"), std::string::npos);
  EXPECT_NE(v.status().message().find("config.json"), std::string::npos);
  auto missing = JsonGetInt(*j, "num_hidden_layers", "config.json");
  EXPECT_NE(missing.status().message().find("missing"), std::string::npos);
  EXPECT_EQ(*JsonGetIntOr(*j, "absent", 7, "c"), 7);
}

// Bad inputs from issue 9: each is refused at its position with what is wrong.
void ExpectRefused(absl::string_view text, absl::string_view want) {
  auto j = ParseJson(text, "config.json");
  ASSERT_FALSE(j.ok()) << "accepted: " << text;
  EXPECT_EQ(j.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(j.status().message().find(want), std::string::npos) << j.status().message();
}

TEST(JsonBadInput, LeadingZeros) {
  ExpectRefused(R"({"n": 01})", "config.json:1:7: invalid JSON: number with a leading zero");
  ExpectRefused(R"({"n": -007})", "leading zero");
  ExpectRefused(R"([00.5])", "leading zero");
  // A single zero, with or without fraction and exponent, is fine.
  for (const char* ok : {"0", "-0", "0.5", "0e3", "[0, 10, 100]"}) {
    EXPECT_TRUE(ParseJson(ok, "t").ok()) << ok;
  }
}

TEST(JsonBadInput, NaNAndInfinity) {
  ExpectRefused(R"({"rope_theta": Infinity})", "1:16: invalid JSON: NaN and Infinity");
  ExpectRefused(R"({"rope_theta": -Infinity})", "1:16: invalid JSON: NaN and Infinity");
  ExpectRefused(R"({"rms_norm_eps": NaN})", "NaN and Infinity are not JSON numbers");
  // Overflowing literals would otherwise smuggle an infinity in.
  ExpectRefused(R"({"rope_theta": 1e999})", "number 1e999 is out of range");
}

TEST(JsonBadInput, InvalidUtf8) {
  ExpectRefused("{\"a\": \"x\xff\"}", "1:9: invalid JSON: invalid UTF-8 byte 0xff");
  ExpectRefused("\"\xc0\xaf\"", "invalid UTF-8 byte 0xc0");          // overlong '/'
  ExpectRefused("\"\xe0\x80\xaf\"", "invalid UTF-8 byte 0xe0");      // overlong
  ExpectRefused("\"\xed\xa0\x80\"", "invalid UTF-8 byte 0xed");      // encoded surrogate
  ExpectRefused("\"\xf4\x90\x80\x80\"", "invalid UTF-8 byte 0xf4");  // above U+10FFFF
  ExpectRefused("\"\xe2\x82\"", "invalid UTF-8 byte 0xe2");          // truncated
  auto ok = ParseJson("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "t");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->string_value(), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
}

TEST(JsonBadInput, LoneSurrogates) {
  ExpectRefused(R"(["\ud800"])", "1:3: invalid JSON: lone UTF-16 surrogate");
  ExpectRefused(R"(["\udc00"])", "lone UTF-16 surrogate");
  ExpectRefused(R"(["\ud800\u0041"])", "lone UTF-16 surrogate");
  ExpectRefused(R"(["\ud800x"])", "lone UTF-16 surrogate");
}

// Found by json_fuzzer: an input that spells "surrogate" and ends in a truncated "\ud" escape
// was diagnosed from the echoed input and read past its end.
TEST(JsonBadInput, DiagnosisReadsOnlyTheParserMessage) {
  ExpectRefused(R"({"[[[2surrogatee\\udy7\\udy,N}atee00;77\\ud)", "invalid JSON");
  ExpectRefused(R"(["\ud)", "invalid JSON");
  auto j = ParseJson(R"({"a surrogate": 1 2})", "c");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().message().find("surrogate in"), std::string::npos) << j.status();
}

TEST(JsonBadInput, HugeAndNonIntegralNumbersAreShownAsWritten) {
  const std::string digits(400, '7');
  ExpectRefused(absl::StrCat(R"({"num_hidden_layers": )", digits, "}"),
                absl::StrCat("number ", digits.substr(0, 40),
                             "... (400 characters) is out of "
                             "range"));
  auto j = ParseJson(R"({"hidden_size": 1.92e2, "n": 123456789012345678901234567890})", "c");
  ASSERT_TRUE(j.ok()) << j.status();
  auto v = JsonGetInt(*j, "hidden_size", "config.json");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(),
            "config.json: field \"hidden_size\" must be an integer, got 1.92e2 (byte 16)");
  auto n = JsonGetInt(*j, "n", "config.json");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(),
            "config.json: field \"n\" must be an integer, got 123456789012345678901234567890 "
            "(byte 29)");
}

}  // namespace
}  // namespace gisp
