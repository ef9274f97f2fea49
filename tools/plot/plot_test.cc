// The PNG writer decoded by the test itself (chunks, CRCs, stored deflate blocks), checksum
// vectors, tick placement, and chart errors.
#include "tools/plot/plot.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "tools/plot/png.h"

namespace gisp_plot {
namespace {

uint32_t Get32(const std::string& s, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 8) |
         static_cast<uint8_t>(s[at + 3]);
}

// Decodes our own PNGs: returns width, height and RGB pixels.
bool Decode(const std::string& png, int* w, int* h, std::vector<uint8_t>* rgb) {
  if (png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return false;
  std::string idat;
  for (size_t pos = 8; pos + 12 <= png.size();) {
    const uint32_t len = Get32(png, pos);
    const std::string type = png.substr(pos + 4, 4);
    const std::string body = png.substr(pos + 4, 4 + len);
    if (Crc32(reinterpret_cast<const uint8_t*>(body.data()), body.size()) !=
        Get32(png, pos + 8 + len))
      return false;
    if (type == "IHDR") {
      *w = static_cast<int>(Get32(png, pos + 8));
      *h = static_cast<int>(Get32(png, pos + 12));
    } else if (type == "IDAT") {
      idat += png.substr(pos + 8, len);
    }
    pos += 12 + len;
  }
  std::string raw;
  size_t p = 2;  // zlib header
  while (p < idat.size()) {
    const bool last = idat[p] & 1;
    const size_t len = static_cast<uint8_t>(idat[p + 1]) | (static_cast<uint8_t>(idat[p + 2]) << 8);
    raw += idat.substr(p + 5, len);
    p += 5 + len;
    if (last) break;
  }
  if (Adler32(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()) != Get32(idat, p))
    return false;
  rgb->clear();
  for (int y = 0; y < *h; ++y) {
    const size_t row = static_cast<size_t>(y) * (1 + 3 * *w);
    if (raw[row] != 0) return false;
    rgb->insert(rgb->end(), raw.begin() + row + 1, raw.begin() + row + 1 + 3 * *w);
  }
  return true;
}

TEST(PngTest, ChecksumsMatchKnownVectors) {
  const std::string s = "123456789";
  EXPECT_EQ(Crc32(reinterpret_cast<const uint8_t*>(s.data()), s.size()), 0xCBF43926u);
  const std::string w = "Wikipedia";
  EXPECT_EQ(Adler32(reinterpret_cast<const uint8_t*>(w.data()), w.size()), 0x11E60398u);
}

TEST(PngTest, RoundTripsLargeImages) {
  const int w = 300, h = 250;  // more than one 64 KiB stored block
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 7);
  int dw = 0, dh = 0;
  std::vector<uint8_t> back;
  ASSERT_TRUE(Decode(EncodePng(w, h, rgb), &dw, &dh, &back));
  EXPECT_EQ(dw, w);
  EXPECT_EQ(dh, h);
  EXPECT_EQ(back, rgb);
}

TEST(PlotTest, TicksAreNice) {
  auto near = [](const std::vector<double>& got, const std::vector<double>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-12 * std::fabs(want[i]) + 1e-15);
  };
  near(LinearTicks(0.2, 0.5, 6), {0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5});
  near(LinearTicks(-3, 7, 5), {-2, 0, 2, 4, 6});
  near(LogTicks(10, 200), {10, 20, 50, 100, 200});
  near(LogTicks(16, 31), {20, 25, 30});
  near(LogTicks(1, 1e4), {1, 10, 100, 1000, 10000});
}

TEST(PlotTest, DrawsTheSeriesColour) {
  const std::string path =
      std::string(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp") + "/chart.png";
  Series s;
  s.label = "perplexity";
  s.x = {0, 20, 30, 40, 50};
  s.y = {20, 24, 28, 35, 60};
  s.rgb = 0xff0000;
  ChartOptions o;
  o.title = "test";
  o.log_y = true;
  ASSERT_EQ(WriteLineChart(path, {s}, o), "");
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  int w = 0, h = 0;
  std::vector<uint8_t> rgb;
  ASSERT_TRUE(Decode(buf.str(), &w, &h, &rgb));
  EXPECT_EQ(w, 800);
  EXPECT_EQ(h, 500);
  EXPECT_EQ(rgb[0], 255);  // white background corner
  int red = 0;
  for (size_t i = 0; i + 2 < rgb.size(); i += 3)
    red += rgb[i] == 255 && rgb[i + 1] == 0 && rgb[i + 2] == 0;
  EXPECT_GT(red, 100);
}

TEST(PlotTest, RejectsBadSeries) {
  Series empty;
  empty.label = "nothing";
  EXPECT_NE(WriteLineChart("/tmp/x.png", {empty}, {}).find("nothing"), std::string::npos);
  Series bad;
  bad.label = "uneven";
  bad.x = {1, 2};
  bad.y = {1};
  EXPECT_NE(WriteLineChart("/tmp/x.png", {bad}, {}).find("uneven"), std::string::npos);
  Series nan;
  nan.label = "nan";
  nan.x = {1};
  nan.y = {NAN};
  EXPECT_NE(WriteLineChart("/tmp/x.png", {nan}, {}).find("nan"), std::string::npos);
}

}  // namespace
}  // namespace gisp_plot
