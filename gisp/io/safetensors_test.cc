// SafetensorsFile reading and WriteSafetensors: round trips, alignment, and one test per kind of
// broken file, each checking that the message names the file and the tensor / field.
#include "gisp/io/safetensors.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "gisp/base/file.h"
#include "gisp/io/safetensors_writer.h"
#include "gisp/io/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

// In the namespace of gisp/io/test_util.h, whose helpers (RawSafetensors, RandomTensor, BitEqual,
// ...) these tests use.
namespace gisp {
namespace testing_io {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// ---------------------------------------------------------------------------------------------
// Round trips

TEST(SafetensorsRoundTrip, EveryDtypeShapeAndMetadata) {
  const std::string path = JoinPath(NewTestDir("rt"), "t.safetensors");
  NamedTensors tensors = {
      {"a.bf16", RandomTensor({3, 5}, DType::kBF16, 1)},
      {"b.f32", RandomTensor({7}, DType::kF32, 2)},
      {"c.f16", RandomTensor({2, 3, 1}, DType::kF16, 3)},
      {"d.f64", RandomTensor({3}, DType::kF64, 4)},
      {"e.i32", RandomTensor({4, 2}, DType::kI32, 5)},
      {"f.scalar", RandomTensor({}, DType::kF32, 6)},
      {"g.empty", RandomTensor({0, 4}, DType::kBF16, 7)},
  };
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "a \"q\""}};
  ASSERT_TRUE(WriteSafetensors(path, tensors, metadata).ok());

  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata(), metadata);
  EXPECT_EQ(file->entries().size(), tensors.size());
  EXPECT_EQ(file->data_offset() % 8, 0u);
  for (const auto& [name, original] : tensors) {
    const SafetensorsEntry* entry = file->Find(name);
    ASSERT_NE(entry, nullptr) << name;
    EXPECT_TRUE(file->IsAligned(*entry)) << name;
    absl::StatusOr<Tensor> t = file->Get(name);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_TRUE(BitEqual(*t, original)) << name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t->raw()) % DTypeSize(t->dtype()), 0u) << name;
  }
  EXPECT_FALSE(file->Contains("missing"));
  absl::StatusOr<Tensor> missing = file->Get("missing");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), AllOf(HasSubstr(path), HasSubstr("\"missing\"")));
}

TEST(SafetensorsRoundTrip, HeaderIsPaddedWithSpacesToEightBytes) {
  const std::string path = JoinPath(NewTestDir("pad"), "t.safetensors");
  // Names of several lengths so the padding is not 0 by accident for all of them.
  for (const std::string name : {"x", "xy", "xyz", "wxyz0", "longer.tensor.name"}) {
    ASSERT_TRUE(WriteSafetensors(path, {{name, RandomTensor({2}, DType::kF32, 1)}}).ok());
    const std::string raw = ReadBytes(path);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(raw[i]);
    EXPECT_EQ((8 + n) % 8, 0u) << name;
    const std::string header = raw.substr(8, n);
    const size_t close = header.find_last_of('}');
    ASSERT_NE(close, std::string::npos);
    EXPECT_EQ(header.substr(close + 1), std::string(header.size() - close - 1, ' ')) << name;
    EXPECT_EQ(raw.size(), 8 + n + 8) << name;  // two f32 values and no gaps
  }
}

TEST(SafetensorsRoundTrip, ViewsShareTheMappingAndOutliveTheFileObject) {
  const std::string path = JoinPath(NewTestDir("view"), "t.safetensors");
  Tensor a = RandomTensor({64}, DType::kF32, 1);
  Tensor b = RandomTensor({32}, DType::kBF16, 2);
  ASSERT_TRUE(WriteSafetensors(path, {{"a", a}, {"b", b}}).ok());
  Tensor va, vb;
  {
    absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(path);
    ASSERT_TRUE(file.ok()) << file.status();
    va = *file->Get("a");
    vb = *file->Get("b");
  }
  // Views: one buffer for the whole mapping (no copy), still readable after the file object died.
  EXPECT_EQ(va.buffer(), vb.buffer());
  EXPECT_GT(va.buffer()->bytes(), va.bytes() + vb.bytes());
  EXPECT_TRUE(BitEqual(va, a));
  EXPECT_TRUE(BitEqual(vb, b));
}

TEST(SafetensorsRoundTrip, MisalignedTensorIsCopiedToAlignedMemory) {
  // A bf16 scalar at offset 0 puts the f32 tensor at data offset 2: valid safetensors, but a
  // float read there would be misaligned.
  const std::string header = R"({"h":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]},)"
                             R"("f":{"dtype":"F32","shape":[3],"data_offsets":[2,14]}})";
  // 8 + header + 2 must not be a multiple of 4 for the test to mean anything.
  std::string padded = header;
  while ((8 + padded.size()) % 4 != 0) padded += ' ';
  const float values[3] = {1.5f, -2.25f, 3.0f};
  std::string data(2, '\0');
  data.append(reinterpret_cast<const char*>(values), sizeof(values));
  const std::string path = JoinPath(NewTestDir("misaligned"), "t.safetensors");
  WriteBytes(path, RawSafetensors(padded, data));

  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_FALSE(file->IsAligned(*file->Find("f")));
  EXPECT_TRUE(file->IsAligned(*file->Find("h")));
  absl::StatusOr<Tensor> f = file->Get("f");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f->raw()) % alignof(float), 0u);
  EXPECT_EQ(f->f32()[0], 1.5f);
  EXPECT_EQ(f->f32()[1], -2.25f);
  EXPECT_EQ(f->f32()[2], 3.0f);
}

TEST(SafetensorsRoundTrip, GapsBetweenTensorsAreAccepted) {
  const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
  std::string padded = header;
  while ((8 + padded.size()) % 8 != 0) padded += ' ';
  const float v = 4.5f;
  std::string data(8, '\x7f');
  data.append(reinterpret_cast<const char*>(&v), 4);
  data.append(4, '\0');
  const std::string path = JoinPath(NewTestDir("gap"), "t.safetensors");
  WriteBytes(path, RawSafetensors(padded, data));
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->Get("a")->f32()[0], 4.5f);
}

TEST(SafetensorsWriter, ReplacesAnExistingFileAndLeavesNoTemporaries) {
  const std::string dir = NewTestDir("replace");
  const std::string path = JoinPath(dir, "t.safetensors");
  ASSERT_TRUE(WriteSafetensors(path, {{"a", RandomTensor({4}, DType::kF32, 1)}}).ok());
  Tensor b = RandomTensor({9}, DType::kF16, 2);
  ASSERT_TRUE(WriteSafetensors(path, {{"b", b}}).ok());
  EXPECT_EQ(ListDir(dir), std::vector<std::string>{"t.safetensors"});
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok());
  EXPECT_FALSE(file->Contains("a"));
  EXPECT_TRUE(BitEqual(*file->Get("b"), b));
}

TEST(SafetensorsWriter, RejectsBadInputAndKeepsTheOldFile) {
  const std::string dir = NewTestDir("reject");
  const std::string path = JoinPath(dir, "t.safetensors");
  ASSERT_TRUE(WriteSafetensors(path, {{"a", RandomTensor({4}, DType::kF32, 1)}}).ok());
  const std::string before = ReadBytes(path);
  Tensor t = RandomTensor({2}, DType::kF32, 2);

  absl::Status dup = WriteSafetensors(path, {{"x", t}, {"x", t}});
  EXPECT_EQ(dup.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(dup.message(), AllOf(HasSubstr(path), HasSubstr("\"x\""), HasSubstr("twice")));

  absl::Status empty = WriteSafetensors(path, {{"e", Tensor()}});
  EXPECT_THAT(empty.message(), AllOf(HasSubstr("\"e\""), HasSubstr("no data")));

  absl::Status reserved = WriteSafetensors(path, {{"__metadata__", t}});
  EXPECT_THAT(reserved.message(), HasSubstr("__metadata__"));

  EXPECT_EQ(ReadBytes(path), before);
  EXPECT_EQ(ListDir(dir), std::vector<std::string>{"t.safetensors"});
}

TEST(SafetensorsWriter, ConvertsToTheRequestedDtypeWhileWriting) {
  const std::string dir = NewTestDir("convert");
  const std::string path = JoinPath(dir, "t.safetensors");
  // Larger than one conversion chunk (2^20 elements) to cover the chunk loop.
  Tensor big = RandomTensor({(1 << 20) + 3}, DType::kF32, 1);
  Tensor ids = RandomTensor({5}, DType::kI32, 2);
  SafetensorsWriteOptions options;
  options.dtype = DType::kBF16;
  StagedFiles staged;
  ASSERT_TRUE(StageSafetensors(&staged, path, {{"w", big}, {"ids", ids}}, options).ok());
  EXPECT_FALSE(FileExists(path));  // nothing visible before the commit
  ASSERT_TRUE(staged.Commit().ok());
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(BitEqual(*file->Get("w"), Converted(big, DType::kBF16)));
  EXPECT_TRUE(BitEqual(*file->Get("ids"), ids));  // integers are never converted
}

// ---------------------------------------------------------------------------------------------
// Broken files: one test per kind, each checking the message names the file and the field.

class SafetensorsBadInput : public ::testing::Test {
 protected:
  // Writes `header` (padded to 8) + `data` and returns the Open error.
  absl::Status OpenRaw(const std::string& header, const std::string& data) {
    std::string padded = header;
    while ((8 + padded.size()) % 8 != 0) padded += ' ';
    WriteBytes(path_, RawSafetensors(padded, data));
    return SafetensorsFile::Open(path_).status();
  }
  // An F32 [2] tensor "w" with the given offsets.
  absl::Status OpenWithOffsets(int begin, int end, int data_bytes) {
    return OpenRaw(
        absl::StrCat(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[)", begin, ",", end, "]}}"),
        std::string(static_cast<size_t>(data_bytes), '\0'));
  }
  std::string path_ = JoinPath(NewTestDir("bad"), "model.safetensors");
};

TEST_F(SafetensorsBadInput, MissingFile) {
  absl::Status s = SafetensorsFile::Open(path_ + ".nope").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr(path_ + ".nope"));
}

TEST_F(SafetensorsBadInput, DirectoryInsteadOfFile) {
  const std::string dir = NewTestDir("adir");
  absl::Status s = SafetensorsFile::Open(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(dir), HasSubstr("directory")));
}

TEST_F(SafetensorsBadInput, FileShorterThanTheLengthField) {
  WriteBytes(path_, std::string("\x10\x00\x00", 3));
  absl::Status s = SafetensorsFile::Open(path_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("3 bytes"), HasSubstr("truncated")));
}

TEST_F(SafetensorsBadInput, EmptyFile) {
  WriteBytes(path_, "");
  absl::Status s = SafetensorsFile::Open(path_).status();
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("0 bytes")));
}

TEST_F(SafetensorsBadInput, HeaderLengthLargerThanFile) {
  std::string raw = RawSafetensors(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}})", "");
  raw[0] = '\xff';  // length now 255 + ..., far beyond the file
  raw[1] = '\x7f';
  WriteBytes(path_, raw);
  absl::Status s = SafetensorsFile::Open(path_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr(path_), HasSubstr("header length 32767"), HasSubstr("exceeds")));
}

TEST_F(SafetensorsBadInput, TruncatedDataSection) {
  // A valid file cut short: the last tensor now ends beyond the data.
  ASSERT_TRUE(WriteSafetensors(path_, {{"first", RandomTensor({4}, DType::kF32, 1)},
                                       {"last", RandomTensor({4}, DType::kF32, 2)}})
                  .ok());
  std::string raw = ReadBytes(path_);
  WriteBytes(path_, raw.substr(0, raw.size() - 5));
  absl::Status s = SafetensorsFile::Open(path_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("\"last\""), HasSubstr("data_offsets"),
                                 HasSubstr("truncated")));
}

TEST_F(SafetensorsBadInput, TruncatedInsideTheHeader) {
  std::string raw =
      RawSafetensors(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "12345678");
  WriteBytes(path_, raw.substr(0, 20));
  absl::Status s = SafetensorsFile::Open(path_).status();
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("header length")));
}

TEST_F(SafetensorsBadInput, HeaderIsNotJson) {
  absl::Status s = OpenRaw("{this is not json", "");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr(path_), HasSubstr("safetensors header"), HasSubstr("invalid JSON")));
}

TEST_F(SafetensorsBadInput, HeaderIsNotAnObject) {
  absl::Status s = OpenRaw("[1, 2, 3]", "");
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("must be a JSON object")));
}

TEST_F(SafetensorsBadInput, EntryIsNotAnObject) {
  absl::Status s = OpenRaw(R"({"w": 3})", "");
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr(path_), HasSubstr("tensor \"w\""), HasSubstr("must be an object")));
}

TEST_F(SafetensorsBadInput, MissingDtype) {
  absl::Status s = OpenRaw(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0'));
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("tensor \"w\""),
                                 HasSubstr("\"dtype\" is missing")));
}

TEST_F(SafetensorsBadInput, DtypeNotAString) {
  absl::Status s =
      OpenRaw(R"({"w":{"dtype":7,"shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0'));
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("tensor \"w\""),
                                 HasSubstr("\"dtype\" must be a string")));
}

TEST_F(SafetensorsBadInput, UnknownDtype) {
  absl::Status s = OpenRaw(R"({"q.weight":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})",
                           std::string(2, '\0'));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("tensor \"q.weight\""),
                                 HasSubstr("\"F8_E4M3\""), HasSubstr("dtype")));
}

TEST_F(SafetensorsBadInput, MissingShape) {
  absl::Status s = OpenRaw(R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", std::string(8, '\0'));
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("tensor \"w\""),
                                 HasSubstr("\"shape\" is missing")));
}

TEST_F(SafetensorsBadInput, ShapeWithNonInteger) {
  absl::Status s =
      OpenRaw(R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", std::string(8, '\0'));
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("tensor \"w\""),
                                 HasSubstr("\"shape\" must be an array of integers")));
}

TEST_F(SafetensorsBadInput, NegativeDimension) {
  absl::Status s =
      OpenRaw(R"({"w":{"dtype":"F32","shape":[-2,3],"data_offsets":[0,8]}})", std::string(8, '\0'));
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("tensor \"w\""), HasSubstr("shape"),
                                 HasSubstr("negative dimension -2")));
}

TEST_F(SafetensorsBadInput, MissingDataOffsets) {
  absl::Status s = OpenRaw(R"({"w":{"dtype":"F32","shape":[2]}})", std::string(8, '\0'));
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("tensor \"w\""),
                                 HasSubstr("\"data_offsets\" is missing")));
}

TEST_F(SafetensorsBadInput, DataOffsetsNotAPair) {
  absl::Status s =
      OpenRaw(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", std::string(8, '\0'));
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("tensor \"w\""),
                                 HasSubstr("\"data_offsets\" must be [begin, end]")));
}

TEST_F(SafetensorsBadInput, NegativeDataOffset) {
  absl::Status s = OpenWithOffsets(-8, 0, 8);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("tensor \"w\""),
                                 HasSubstr("data_offsets"), HasSubstr("non-negative")));
}

TEST_F(SafetensorsBadInput, BeginAfterEnd) {
  absl::Status s = OpenWithOffsets(8, 0, 16);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("tensor \"w\""),
                                 HasSubstr("data_offsets\" [8, 0]"), HasSubstr("begin after end")));
}

TEST_F(SafetensorsBadInput, EndBeyondDataSection) {
  absl::Status s = OpenWithOffsets(8, 16, 12);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("tensor \"w\""),
                                 HasSubstr("data_offsets\" [8, 16]"),
                                 HasSubstr("beyond the data section (12 bytes)")));
}

TEST_F(SafetensorsBadInput, SizeDisagreesWithShape) {
  absl::Status s = OpenWithOffsets(0, 12, 12);  // F32 [2] needs 8 bytes
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr(path_), HasSubstr("tensor \"w\""), HasSubstr("holds 12 bytes"),
                    HasSubstr("shape [2]"), HasSubstr("2 elements * 4 bytes")));
}

TEST_F(SafetensorsBadInput, ShapeProductOverflows) {
  absl::Status s =
      OpenRaw(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})",
              std::string(8, '\0'));
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr(path_), HasSubstr("tensor \"w\""), HasSubstr("more than 2^64")));
}

TEST_F(SafetensorsBadInput, OverlappingTensors) {
  absl::Status s = OpenRaw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                           std::string(12, '\0'));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("\"a\""), HasSubstr("\"b\""),
                                 HasSubstr("overlap")));
}

TEST_F(SafetensorsBadInput, TensorNestedInsideAnotherOverlaps) {
  absl::Status s = OpenRaw(R"({"inner":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)"
                           R"("outer":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
                           std::string(16, '\0'));
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr("overlap"), HasSubstr("\"outer\""), HasSubstr("\"inner\"")));
}

TEST_F(SafetensorsBadInput, DuplicateTensorName) {
  absl::Status s = OpenRaw(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                           R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                           std::string(8, '\0'));
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("\"a\""), HasSubstr("twice")));
}

TEST_F(SafetensorsBadInput, MetadataValueNotAString) {
  absl::Status s = OpenRaw(R"({"__metadata__":{"format":"pt","step":3}})", "");
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr(path_), HasSubstr("__metadata__"), HasSubstr("\"step\"")));
}

TEST_F(SafetensorsBadInput, EmptyTensorsNeverOverlap) {
  // Zero-byte tensors share offsets legitimately (the reference writer does this).
  absl::Status s = OpenRaw(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
                           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                           std::string(8, '\0'));
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace testing_io
}  // namespace gisp
