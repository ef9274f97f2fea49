#include "gisp/base/json.h"

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

}  // namespace
}  // namespace gisp
