// Exports are all-or-nothing: an existing non-empty directory is refused before anything is
// written, a failed export leaves neither the target nor its staging directory, and an unknown
// format name is refused with the list of formats.
#include "gisp/export/exporter.h"

#include <cstdlib>

#include "gisp/base/file.h"
#include "gisp/export/output_dir.h"
#include "gisp/testing/random_model.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

std::string TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  return JoinPath(base != nullptr ? base : "/tmp", name);
}

SlicedModel Dense() {
  SlicedModel m;
  m.config = testing::SmallConfig(41, 24, 2, 4, 2, 6, 20);
  m.weights = testing::RandomWeights(m.config, 3);
  return m;
}

TEST(ExporterTest, RefusesANonEmptyDirectoryAndWritesNothing) {
  const std::string dir = TempDir("busy");
  ASSERT_TRUE(MakeDirectories(dir).ok());
  ASSERT_TRUE(WriteFileAtomic(JoinPath(dir, "notes.txt"), "mine").ok());
  auto r = ExportModel(ExportFormat::kLlama, dir, Dense(), DType::kF32, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("not empty"), std::string::npos) << r.status();
  EXPECT_FALSE(FileExists(JoinPath(dir, "config.json")));
}

TEST(ExporterTest, WritesIntoANewOrEmptyDirectory) {
  const std::string fresh = TempDir("fresh/nested");
  auto r = ExportModel(ExportFormat::kSliced, fresh, Dense(), DType::kBF16, "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(FileExists(JoinPath(fresh, "config.json")));
  EXPECT_EQ(r->parameters, r->exact_parameters);
  const std::string empty = TempDir("empty");
  ASSERT_TRUE(MakeDirectories(empty).ok());
  ASSERT_TRUE(ExportModel(ExportFormat::kLlama, empty, Dense(), DType::kF32, "").ok());
  EXPECT_TRUE(FileExists(JoinPath(empty, "model.safetensors")));
}

TEST(ExporterTest, AFailedWriteLeavesNothing) {
  const std::string dir = TempDir("failing");
  std::string staging;
  absl::Status s = WriteDirectoryAtomically(dir, [&](const std::string& tmp) {
    staging = tmp;
    EXPECT_TRUE(WriteFileAtomic(JoinPath(tmp, "half.bin"), "x").ok());
    return absl::ResourceExhaustedError("disk full");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE(staging.empty());
  EXPECT_FALSE(FileExists(dir));
  EXPECT_FALSE(FileExists(staging));
}

TEST(ExporterTest, UnknownFormatAndDtype) {
  auto f = ParseExportFormat("onnx");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("sliced, llama, gguf and decilm"), std::string::npos);
  EXPECT_EQ(*ParseExportFormat("gguf"), ExportFormat::kGguf);
  auto r = ExportModel(ExportFormat::kLlama, TempDir("f64"), Dense(), DType::kF64, "");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(FileExists(TempDir("f64")));
}

}  // namespace
}  // namespace gisp
