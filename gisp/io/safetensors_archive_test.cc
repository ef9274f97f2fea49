// SafetensorsArchive (single file / sharded index) and the sharded writer.
#include <string>
#include <vector>

#include "gisp/base/file.h"
#include "gisp/base/json.h"
#include "gisp/io/safetensors.h"
#include "gisp/io/safetensors_writer.h"
#include "gisp/io/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

// In the namespace of gisp/io/test_util.h, whose helpers (NewTestDir, RandomTensor, ListDir, ...)
// these tests use.
namespace gisp {
namespace testing_io {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Ten tensors of 64 bytes each (f32 [16]) plus one of 256 bytes in the middle.
NamedTensors SomeTensors() {
  NamedTensors t;
  for (int i = 0; i < 10; ++i) {
    t.emplace_back(absl::StrCat("t", i), RandomTensor({16}, DType::kF32, 100 + i));
    if (i == 4) t.emplace_back("big", RandomTensor({128}, DType::kBF16, 7));
  }
  return t;
}

void ExpectArchiveHolds(const SafetensorsArchive& archive, const NamedTensors& tensors) {
  EXPECT_EQ(archive.Names().size(), tensors.size());
  for (const auto& [name, original] : tensors) {
    absl::StatusOr<Tensor> t = archive.Get(name);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_TRUE(BitEqual(*t, original)) << name;
  }
}

TEST(SafetensorsArchive, SingleFile) {
  const std::string dir = NewTestDir("single");
  const NamedTensors tensors = SomeTensors();
  absl::StatusOr<std::vector<std::string>> files = WriteSafetensorsSharded(dir, tensors, {}, 0);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, ElementsAre("model.safetensors"));
  EXPECT_EQ(ListDir(dir), std::vector<std::string>{"model.safetensors"});
  absl::StatusOr<SafetensorsArchive> archive = SafetensorsArchive::Open(dir);
  ASSERT_TRUE(archive.ok()) << archive.status();
  EXPECT_TRUE(archive->index_path().empty());
  EXPECT_EQ(archive->files().size(), 1u);
  ExpectArchiveHolds(*archive, tensors);
  absl::StatusOr<Tensor> missing = archive->Get("nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(),
              AllOf(HasSubstr(JoinPath(dir, "model.safetensors")), HasSubstr("\"nope\"")));
}

TEST(SafetensorsArchive, ShardedWriteFollowsHfNamingAndSizeLimit) {
  const std::string dir = NewTestDir("sharded");
  const NamedTensors tensors = SomeTensors();
  // 200 bytes: three 64-byte tensors per shard; the 256-byte tensor gets a shard of its own.
  absl::StatusOr<std::vector<std::string>> files = WriteSafetensorsSharded(dir, tensors, {}, 200);
  ASSERT_TRUE(files.ok()) << files.status();
  // t0 t1 t2 | t3 t4 | big | t5 t6 t7 | t8 t9
  EXPECT_THAT(*files,
              ElementsAre("model-00001-of-00005.safetensors", "model-00002-of-00005.safetensors",
                          "model-00003-of-00005.safetensors", "model-00004-of-00005.safetensors",
                          "model-00005-of-00005.safetensors", "model.safetensors.index.json"));
  EXPECT_EQ(ListDir(dir).size(), 6u);  // no temporaries left behind

  absl::StatusOr<Json> index =
      ParseJson(ReadBytes(JoinPath(dir, "model.safetensors.index.json")), "index");
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->Find("metadata")->Find("total_size")->int_value(), 10 * 64 + 256);
  const Json* map = index->Find("weight_map");
  ASSERT_NE(map, nullptr);
  EXPECT_EQ(map->object().size(), tensors.size());
  EXPECT_EQ(map->Find("t0")->string_value(), "model-00001-of-00005.safetensors");
  EXPECT_EQ(map->Find("t4")->string_value(), "model-00002-of-00005.safetensors");
  EXPECT_EQ(map->Find("big")->string_value(), "model-00003-of-00005.safetensors");
  EXPECT_EQ(map->Find("t9")->string_value(), "model-00005-of-00005.safetensors");

  absl::StatusOr<SafetensorsArchive> archive = SafetensorsArchive::Open(dir);
  ASSERT_TRUE(archive.ok()) << archive.status();
  EXPECT_EQ(archive->index_path(), JoinPath(dir, "model.safetensors.index.json"));
  EXPECT_EQ(archive->files().size(), 5u);
  for (const SafetensorsFile& f : archive->files()) {
    uint64_t bytes = 0;
    for (const auto& e : f.entries()) bytes += e.end - e.begin;
    EXPECT_TRUE(bytes <= 200 || f.entries().size() == 1) << f.path();
  }
  ExpectArchiveHolds(*archive, tensors);
  EXPECT_EQ(archive->FileOf("t7")->path(), JoinPath(dir, "model-00004-of-00005.safetensors"));
}

TEST(SafetensorsArchive, ShardLimitAboveTotalWritesOneFile) {
  const std::string dir = NewTestDir("fits");
  absl::StatusOr<std::vector<std::string>> files =
      WriteSafetensorsSharded(dir, SomeTensors(), {}, 1 << 20);
  ASSERT_TRUE(files.ok());
  EXPECT_THAT(*files, ElementsAre("model.safetensors"));
}

TEST(SafetensorsArchive, SingleFileWinsOverIndex) {
  const std::string dir = NewTestDir("both");
  ASSERT_TRUE(WriteSafetensorsSharded(dir, SomeTensors(), {}, 200).ok());
  Tensor only = RandomTensor({3}, DType::kF32, 9);
  ASSERT_TRUE(WriteSafetensors(JoinPath(dir, "model.safetensors"), {{"only", only}}).ok());
  absl::StatusOr<SafetensorsArchive> archive = SafetensorsArchive::Open(dir);
  ASSERT_TRUE(archive.ok());
  EXPECT_THAT(archive->Names(), ElementsAre("only"));
}

// Issue 9: tensors a shard holds beyond the index used to load silently.
TEST(SafetensorsArchiveBadInput, TensorsMissingFromTheIndexAreRefused) {
  const std::string dir = NewTestDir("extra");
  Tensor a = RandomTensor({2}, DType::kF32, 1);
  Tensor b = RandomTensor({2}, DType::kF32, 2);
  ASSERT_TRUE(WriteSafetensors(JoinPath(dir, "s1.safetensors"), {{"a", a}, {"b", b}}).ok());
  WriteBytes(JoinPath(dir, "model.safetensors.index.json"),
             R"({"weight_map": {"a": "s1.safetensors"}})");
  absl::Status s = SafetensorsArchive::Open(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("model.safetensors.index.json: tensor \"b\" is stored "
                                           "in "),
                                 HasSubstr(JoinPath(dir, "s1.safetensors")),
                                 HasSubstr("weight_map does not list it")));
}

// Issue 9: a JSON object may repeat a key, so one tensor could be mapped to two shards.
TEST(SafetensorsArchiveBadInput, TensorListedTwiceInTheIndex) {
  const std::string dir = NewTestDir("listed_twice");
  Tensor a = RandomTensor({2}, DType::kF32, 1);
  ASSERT_TRUE(WriteSafetensors(JoinPath(dir, "s1.safetensors"), {{"a", a}}).ok());
  ASSERT_TRUE(WriteSafetensors(JoinPath(dir, "s2.safetensors"), {{"a", a}}).ok());
  WriteBytes(JoinPath(dir, "model.safetensors.index.json"),
             R"({"weight_map": {"a": "s1.safetensors", "a": "s2.safetensors"}})");
  absl::Status s = SafetensorsArchive::Open(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("weight_map lists tensor \"a\" twice (shards "
                                     "\"s1.safetensors\" and \"s2.safetensors\")"));
}

// Issue 9: "s1.safetensors\u0000../x" opened s1.safetensors while naming something else.
TEST(SafetensorsArchiveBadInput, ShardNameWithNul) {
  const std::string dir = NewTestDir("nul");
  ASSERT_TRUE(
      WriteSafetensors(JoinPath(dir, "s1.safetensors"), {{"a", RandomTensor({2}, DType::kF32, 1)}})
          .ok());
  WriteBytes(JoinPath(dir, "model.safetensors.index.json"),
             R"({"weight_map": {"a": "s1.safetensors\u0000.evil"}})");
  absl::Status s = SafetensorsArchive::Open(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("\"s1.safetensors\\000.evil\""),
                                 HasSubstr("not a relative path inside the model directory")));
}

TEST(SafetensorsArchive, IndexDecidesBetweenDuplicates) {
  const std::string dir = NewTestDir("dup_listed");
  Tensor a1 = RandomTensor({2}, DType::kF32, 1);
  Tensor a2 = RandomTensor({2}, DType::kF32, 2);
  ASSERT_TRUE(WriteSafetensors(JoinPath(dir, "s1.safetensors"), {{"a", a1}}).ok());
  ASSERT_TRUE(WriteSafetensors(JoinPath(dir, "s2.safetensors"), {{"a", a2}, {"x", a1}}).ok());
  WriteBytes(JoinPath(dir, "model.safetensors.index.json"),
             R"({"weight_map": {"x": "s2.safetensors", "a": "s2.safetensors"}})");
  absl::StatusOr<SafetensorsArchive> archive = SafetensorsArchive::Open(dir);
  ASSERT_TRUE(archive.ok()) << archive.status();
  // s1 is not named by the index, so it is not even opened.
  EXPECT_TRUE(BitEqual(*archive->Get("a"), a2));
}

// ---------------------------------------------------------------------------------------------
// Broken model directories.

TEST(SafetensorsArchiveBadInput, IndexNamesMissingShard) {
  const std::string dir = NewTestDir("missing_shard");
  ASSERT_TRUE(WriteSafetensorsSharded(dir, SomeTensors(), {}, 200).ok());
  const std::string gone = JoinPath(dir, "model-00003-of-00005.safetensors");
  ASSERT_TRUE(FileExists(gone));
  ASSERT_EQ(::unlink(gone.c_str()), 0);
  absl::Status s = SafetensorsArchive::Open(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(JoinPath(dir, "model.safetensors.index.json")),
                                 HasSubstr("shard \"model-00003-of-00005.safetensors\""),
                                 HasSubstr("\"big\""), HasSubstr("does not exist")));
}

TEST(SafetensorsArchiveBadInput, NameMappedToShardThatLacksIt) {
  const std::string dir = NewTestDir("lacks");
  ASSERT_TRUE(
      WriteSafetensors(JoinPath(dir, "s1.safetensors"), {{"a", RandomTensor({2}, DType::kF32, 1)}})
          .ok());
  ASSERT_TRUE(
      WriteSafetensors(JoinPath(dir, "s2.safetensors"), {{"b", RandomTensor({2}, DType::kF32, 2)}})
          .ok());
  WriteBytes(JoinPath(dir, "model.safetensors.index.json"),
             R"({"weight_map": {"a": "s1.safetensors", "b": "s1.safetensors"}})");
  absl::Status s = SafetensorsArchive::Open(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("model.safetensors.index.json"), HasSubstr("\"b\""),
                                 HasSubstr("shard \"s1.safetensors\""),
                                 HasSubstr(JoinPath(dir, "s1.safetensors"))));
}

TEST(SafetensorsArchiveBadInput, DuplicateTensorAcrossShardsNotInIndex) {
  const std::string dir = NewTestDir("dup");
  Tensor t = RandomTensor({2}, DType::kF32, 1);
  ASSERT_TRUE(WriteSafetensors(JoinPath(dir, "s1.safetensors"), {{"a", t}, {"z", t}}).ok());
  ASSERT_TRUE(WriteSafetensors(JoinPath(dir, "s2.safetensors"), {{"b", t}, {"z", t}}).ok());
  WriteBytes(JoinPath(dir, "model.safetensors.index.json"),
             R"({"weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}})");
  absl::Status s = SafetensorsArchive::Open(dir).status();
  EXPECT_THAT(s.message(), AllOf(HasSubstr("\"z\""), HasSubstr(JoinPath(dir, "s1.safetensors")),
                                 HasSubstr(JoinPath(dir, "s2.safetensors"))));
}

TEST(SafetensorsArchiveBadInput, IndexIsNotJson) {
  const std::string dir = NewTestDir("badindex");
  WriteBytes(JoinPath(dir, "model.safetensors.index.json"), "{\"weight_map\": ");
  absl::Status s = SafetensorsArchive::Open(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(JoinPath(dir, "model.safetensors.index.json")),
                                 HasSubstr("invalid JSON")));
}

TEST(SafetensorsArchiveBadInput, IndexWithoutWeightMap) {
  const std::string dir = NewTestDir("nomap");
  WriteBytes(JoinPath(dir, "model.safetensors.index.json"), R"({"metadata": {}})");
  absl::Status s = SafetensorsArchive::Open(dir).status();
  EXPECT_THAT(s.message(), AllOf(HasSubstr("model.safetensors.index.json"),
                                 HasSubstr("\"weight_map\" is missing")));
}

TEST(SafetensorsArchiveBadInput, ShardPathLeavingTheDirectory) {
  const std::string dir = NewTestDir("escape");
  WriteBytes(JoinPath(dir, "model.safetensors.index.json"),
             R"({"weight_map": {"a": "../other/model.safetensors"}})");
  absl::Status s = SafetensorsArchive::Open(dir).status();
  EXPECT_THAT(s.message(), AllOf(HasSubstr("\"a\""), HasSubstr("../other/model.safetensors"),
                                 HasSubstr("not a relative path inside")));
}

TEST(SafetensorsArchiveBadInput, NoWeightsAtAll) {
  const std::string dir = NewTestDir("empty");
  absl::Status s = SafetensorsArchive::Open(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(dir), HasSubstr("model.safetensors"),
                                 HasSubstr("model.safetensors.index.json")));
}

TEST(SafetensorsArchiveBadInput, PyTorchBinOnlyGetsAHint) {
  const std::string dir = NewTestDir("bin");
  WriteBytes(JoinPath(dir, "pytorch_model.bin"), "PK");
  absl::Status s = SafetensorsArchive::Open(dir).status();
  EXPECT_THAT(s.message(), AllOf(HasSubstr("PyTorch .bin"), HasSubstr("safe_serialization")));
}

TEST(SafetensorsArchiveBadInput, MissingDirectory) {
  const std::string dir = JoinPath(NewTestDir("parent"), "does_not_exist");
  absl::Status s = SafetensorsArchive::Open(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(dir), HasSubstr("does not exist")));
}

TEST(SafetensorsArchiveBadInput, CorruptShardNamesTheShard) {
  const std::string dir = NewTestDir("corrupt_shard");
  ASSERT_TRUE(WriteSafetensorsSharded(dir, SomeTensors(), {}, 200).ok());
  const std::string shard = JoinPath(dir, "model-00002-of-00005.safetensors");
  WriteBytes(shard, ReadBytes(shard).substr(0, 30));
  absl::Status s = SafetensorsArchive::Open(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(shard));
}

}  // namespace
}  // namespace testing_io
}  // namespace gisp
