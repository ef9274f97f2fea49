#include "tools/plot/png.h"

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "gisp/base/file.h"
#include "gtest/gtest.h"
#include "tools/plot/png_reader.h"

namespace gisp {
namespace plot {
namespace {

TEST(Crc32Test, KnownVectors) {
  EXPECT_EQ(Crc32(""), 0u);
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
  // PNG's own IEND chunk: CRC over "IEND" is the fixed trailer AE 42 60 82.
  EXPECT_EQ(Crc32("IEND"), 0xAE426082u);
}

TEST(Crc32Test, ContinuesOverSplitInput) {
  std::string s = "The quick brown fox jumps over the lazy dog";
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    EXPECT_EQ(Crc32(s.substr(cut), Crc32(s.substr(0, cut))), Crc32(s)) << cut;
  }
}

TEST(Adler32Test, KnownVectors) {
  EXPECT_EQ(Adler32(""), 1u);
  EXPECT_EQ(Adler32("Wikipedia"), 0x11E60398u);
  EXPECT_EQ(Adler32("123456789"), 0x091E01DEu);
}

TEST(Adler32Test, LongInputMatchesPerByteDefinition) {
  // Long enough for the deferred modulo reduction to matter; all 0xFF maximizes the sums.
  for (int fill : {0xFF, 0x5A}) {
    std::string s(200000, static_cast<char>(fill));
    uint32_t a = 1, b = 0;
    for (unsigned char c : s) {
      a = (a + c) % 65521;
      b = (b + a) % 65521;
    }
    EXPECT_EQ(Adler32(s), (b << 16) | a);
    EXPECT_EQ(Adler32(s.substr(77777), Adler32(s.substr(0, 77777))), (b << 16) | a);
  }
}

// Streams from another encoder (Python's zlib.compress(..., 9)), so the reader used by the other
// tests is checked against something other than our own writer.
TEST(ZlibInflateTest, ReadsForeignFixedHuffmanStreams) {
  std::string hello(
      "\x78\xda\xcb\x48\xcd\xc9\xc9\x57\xc8\x40\x27\x75\x14\xd2\x33\x8b\x0b\x14\x01\xac\xcf\x0a"
      "\xd1",
      23);
  auto out = ZlibInflate(hello);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "hello hello hello hello, gisp!");
  std::string run("\x78\xda\x4b\x4c\x1c\xe9\x00\x00\x77\x84\x61\xc3", 12);
  out = ZlibInflate(run);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, std::string(258, 'a'));
}

std::vector<std::string> SampleInputs() {
  std::mt19937 rng(7);
  std::string random(150000, '\0');  // > 2 stored blocks, incompressible
  for (char& c : random) c = static_cast<char>(rng());
  std::string mixed;
  for (int i = 0; i < 50000; ++i) {
    // Runs, repeats at many distances (up to > 32 KiB), and noise.
    if (i % 7 == 0) mixed += std::string(1 + rng() % 300, static_cast<char>(rng() % 4));
    if (i % 5 == 0 && mixed.size() > 40000) mixed += mixed.substr(mixed.size() - 40000, 100);
    mixed.push_back(static_cast<char>(rng() % 16));
  }
  return {"", "x", "abcabcabcabcabcabcabc", std::string(70000, '\0'), random, mixed};
}

TEST(ZlibCompressTest, RoundTripsInBothModes) {
  for (DeflateMode mode : {DeflateMode::kStored, DeflateMode::kFixedHuffman}) {
    for (const std::string& in : SampleInputs()) {
      std::string z = ZlibCompress(in, mode);
      auto out = ZlibInflate(z);
      ASSERT_TRUE(out.ok()) << out.status() << " size " << in.size();
      EXPECT_TRUE(*out == in) << "size " << in.size() << " mode " << static_cast<int>(mode);
    }
  }
}

TEST(ZlibCompressTest, StoredLayoutAndFixedCompression) {
  std::string in(150000, 'q');
  // Stored: 2-byte header, 3 blocks of 5-byte headers (65535 + 65535 + 18930), 4-byte Adler.
  EXPECT_EQ(ZlibCompress(in, DeflateMode::kStored).size(), 2 + 3 * 5 + in.size() + 4);
  EXPECT_LT(ZlibCompress(in, DeflateMode::kFixedHuffman).size(), in.size() / 100);
}

std::vector<uint8_t> TestImage(int w, int h) {
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &rgb[(static_cast<size_t>(y) * w + x) * 3];
      p[0] = static_cast<uint8_t>(x * 7);
      p[1] = static_cast<uint8_t>(y * 13);
      p[2] = (x / 8 + y / 8) % 2 ? 255 : 0;
    }
  }
  return rgb;
}

TEST(EncodePngTest, DecodesToTheSamePixels) {
  const int w = 37, h = 23;
  std::vector<uint8_t> rgb = TestImage(w, h);
  for (DeflateMode mode : {DeflateMode::kStored, DeflateMode::kFixedHuffman}) {
    auto png = EncodePng(w, h, rgb, mode);
    ASSERT_TRUE(png.ok()) << png.status();
    auto decoded = DecodePng(*png);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->width, w);
    EXPECT_EQ(decoded->height, h);
    EXPECT_EQ(decoded->chunk_types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
    EXPECT_TRUE(decoded->rgb == rgb);
    EXPECT_EQ(decoded->Pixel(10, 3), (70u << 16) | (39u << 8) | 255u);
  }
}

TEST(EncodePngTest, ReaderNoticesCorruption) {
  auto png = EncodePng(16, 16, TestImage(16, 16), DeflateMode::kStored);
  ASSERT_TRUE(png.ok());
  std::string bad = *png;
  bad[bad.size() - 30] ^= 0x01;  // inside IDAT pixel data
  EXPECT_FALSE(DecodePng(bad).ok());
}

TEST(EncodePngTest, RejectsBadArguments) {
  EXPECT_FALSE(EncodePng(0, 5, {}).ok());
  EXPECT_FALSE(EncodePng(4, 4, std::vector<uint8_t>(47)).ok());
  auto status = EncodePng(4, 4, std::vector<uint8_t>(47)).status();
  EXPECT_NE(status.message().find("48"), std::string::npos) << status;
}

TEST(WritePngTest, WritesAReadableFile) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string path = JoinPath(tmp ? tmp : "/tmp", "png_test.png");
  std::vector<uint8_t> rgb = TestImage(64, 40);
  ASSERT_TRUE(WritePng(path, 64, 40, rgb).ok());
  auto bytes = ReadFile(path);
  ASSERT_TRUE(bytes.ok());
  auto decoded = DecodePng(*bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->rgb == rgb);
  EXPECT_FALSE(WritePng(JoinPath(path, "not_a_dir/x.png"), 64, 40, rgb).ok());
}

}  // namespace
}  // namespace plot
}  // namespace gisp
