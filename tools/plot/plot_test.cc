#include "tools/plot/plot.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gisp/base/file.h"
#include "gtest/gtest.h"
#include "tools/plot/png_io.h"
#include "tools/plot/ticks.h"

namespace gisp {
namespace plot {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr uint32_t kWhite = 0xFFFFFF;
constexpr uint32_t kRed = 0xD62728;
constexpr uint32_t kBlue = 0x1F77B4;

std::string TempPath(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return JoinPath(tmp ? tmp : "/tmp", name);
}

int Round(double v) { return static_cast<int>(std::lround(v)); }

// Pixels in [x0, x1) x [y0, y1) dark enough to be text: every channel below 0x60 (the text is
// 0x202020; the series colours and the grey frame are lighter in at least one channel).
int DarkPixels(const DecodedPng& png, int x0, int y0, int x1, int y1) {
  int n = 0;
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      const uint32_t p = png.Pixel(x, y);
      n += ((p >> 16) & 0xFF) < 0x60 && ((p >> 8) & 0xFF) < 0x60 && (p & 0xFF) < 0x60;
    }
  }
  return n;
}

std::vector<Series> SparsityCurves() {
  Series dense{"magnitude",
               {0.1, 0.2, 0.3, 0.4, 0.5, 0.6},
               {12.1, 12.6, 13.5, 15.8, 21.0, 40.2},
               kRed,
               true};
  Series ours{
      "gisp", {0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, {10.0, 10.3, 10.8, 11.5, kNaN, 13.0}, kBlue, false};
  return {dense, ours};
}

TEST(WriteLineChartTest, WrittenPngShowsBackgroundAxesAndSeries) {
  ChartOptions options;
  options.title = "decoder sparsity vs perplexity";
  options.x_label = "sparsity";
  options.y_label = "perplexity";
  std::vector<Series> series = SparsityCurves();
  const std::string path = TempPath("chart.png");
  ASSERT_TRUE(WriteLineChart(path, series, options).ok());
  auto chart = RenderLineChart(series, options);
  ASSERT_TRUE(chart.ok()) << chart.status();
  auto bytes = ReadFile(path);
  ASSERT_TRUE(bytes.ok());
  auto png = DecodePng(*bytes);
  ASSERT_TRUE(png.ok()) << png.status();
  ASSERT_EQ(png->width, 800);
  ASSERT_EQ(png->height, 500);
  EXPECT_TRUE(png->rgb == chart->rgb);

  const ChartFrame& f = chart->frame;
  EXPECT_EQ(png->Pixel(0, 0), kWhite);
  EXPECT_EQ(png->Pixel(799, 499), kWhite);
  // The frame is drawn just outside the plot area.
  EXPECT_EQ(png->Pixel((f.plot.left + f.plot.right) / 2, f.plot.bottom), 0x404040u);
  // Every marker centre has the series colour (unless the legend sits on it).
  for (size_t i = 0; i < series[0].x.size(); ++i) {
    int x = Round(f.PixelX(series[0].x[i])), y = Round(f.PixelY(series[0].y[i]));
    ASSERT_TRUE(f.plot.Contains(x, y));
    if (chart->legend.Contains(x, y)) continue;
    EXPECT_EQ(png->Pixel(x, y), kRed) << "point " << i;
  }
  // A segment's midpoint of the line-only series; its NaN point leaves a gap between x=0.4, 0.6.
  int mx = Round(f.PixelX(0.15)), my = Round(f.PixelY(10.15));
  EXPECT_EQ(png->Pixel(mx, my), kBlue);
  int gx = Round(f.PixelX(0.5)), gy = Round(f.PixelY((11.5 + 13.0) / 2));
  EXPECT_NE(png->Pixel(gx, gy), kBlue);
  // Tick-label ink under each x tick (below the 5-pixel tick mark itself).
  for (double t : LinearTicks(f.x_lo, f.x_hi)) {
    int px = Round(f.PixelX(t));
    EXPECT_GT(DarkPixels(*png, px - 12, f.plot.bottom + 7, px + 13, f.plot.bottom + 28), 8)
        << "no label under x tick " << t;
  }
  // Text everywhere text belongs: the title above the plot, the x label under the tick labels,
  // the turned y label left of the tick labels, tick labels left of the y axis, the legend.
  EXPECT_GT(DarkPixels(*png, f.plot.left, 0, f.plot.right, f.plot.top - 2), 100) << "title";
  EXPECT_GT(DarkPixels(*png, f.plot.left, f.plot.bottom + 28, f.plot.right, 500), 60) << "x label";
  EXPECT_GT(DarkPixels(*png, 0, f.plot.top, 30, f.plot.bottom), 60) << "y label";
  EXPECT_GT(DarkPixels(*png, 30, f.plot.top, f.plot.left - 6, f.plot.bottom), 60) << "y ticks";
  const Rect& l = chart->legend;
  EXPECT_GT(DarkPixels(*png, l.left + 40, l.top + 2, l.right - 2, l.bottom - 2), 40) << "legend";
}

TEST(WriteLineChartTest, PngRoundTripsThroughLibpng) {
  std::vector<uint8_t> rgb(37 * 23 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 7 + i / 111);
  auto bytes = EncodePng(37, 23, rgb);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(bytes->substr(1, 3), "PNG");
  auto png = DecodePng(*bytes);
  ASSERT_TRUE(png.ok()) << png.status();
  EXPECT_EQ(png->width, 37);
  EXPECT_EQ(png->height, 23);
  EXPECT_TRUE(png->rgb == rgb);
  std::string bad = *bytes;
  bad[bad.size() / 2] ^= 0x10;  // inside the image data: libpng's CRC check refuses it
  EXPECT_FALSE(DecodePng(bad).ok());
  EXPECT_FALSE(DecodePng("not a png").ok());
  EXPECT_FALSE(EncodePng(0, 5, {}).ok());
  auto status = EncodePng(4, 4, std::vector<uint8_t>(47)).status();
  EXPECT_NE(status.message().find("48"), std::string::npos) << status;
  EXPECT_FALSE(WritePng(TempPath("no_such_dir/x.png"), 37, 23, rgb).ok());
}

TEST(WriteLineChartSvgTest, SameLayoutWithTextAsText) {
  ChartOptions options;
  options.title = "sparsity <vs> perplexity & more";
  options.x_label = "sparsity";
  options.y_label = "perplexity";
  std::vector<Series> series = SparsityCurves();
  const std::string path = TempPath("chart.svg");
  ASSERT_TRUE(WriteLineChartSvg(path, series, options).ok());
  auto svg = ReadFile(path);
  ASSERT_TRUE(svg.ok());
  auto chart = RenderLineChart(series, options);
  ASSERT_TRUE(chart.ok());
  auto has = [&](const std::string& s) { return svg->find(s) != std::string::npos; };
  EXPECT_TRUE(has("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_TRUE(has("width=\"800\" height=\"500\""));
  EXPECT_TRUE(has(">sparsity &lt;vs&gt; perplexity &amp; more</text>"));
  EXPECT_TRUE(has(">sparsity</text>"));
  EXPECT_TRUE(has("rotate(-90"));
  EXPECT_TRUE(has(">magnitude</text>"));
  EXPECT_TRUE(has("data-label=\"gisp\""));
  EXPECT_TRUE(has("font-family=\"DejaVu Sans, sans-serif\""));
  // Each marker sits where the raster put it (SVG's grid is half a pixel off the centres).
  const ChartFrame& f = chart->frame;
  for (size_t i = 0; i < series[0].x.size(); ++i) {
    const std::string cx = absl::StrFormat("%.2f", f.PixelX(series[0].x[i]) + 0.5);
    const std::string note =
        absl::StrFormat("magnitude: sparsity %g, perplexity %g", series[0].x[i], series[0].y[i]);
    EXPECT_TRUE(has("<title>" + note + "</title>")) << note;
    EXPECT_TRUE(has("cx=\"" + cx.substr(0, cx.find('.')))) << cx;
  }
  // The NaN splits the line-only series: a polyline of 4 points, then an isolated point (a disc).
  size_t polylines = 0;
  for (size_t at = svg->find("<polyline"); at != std::string::npos;
       at = svg->find("<polyline", at + 1)) {
    ++polylines;
  }
  EXPECT_EQ(polylines, 1 + 1 + 2u);  // magnitude, gisp's first run, two legend swatches
  EXPECT_EQ(svg->substr(svg->size() - 7), "</svg>\n");
}

TEST(WriteLineChartSvgTest, OddLabelsStayWellFormed) {
  ChartOptions options;
  options.title = std::string("bad \xff utf-8 and \x01 control");
  auto svg = RenderLineChartSvg({Series{"a\"b'", {1, 2}, {1, 2}, kRed, true}}, options);
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_NE(svg->find("bad \xef\xbf\xbd utf-8 and  control"), std::string::npos);
  EXPECT_NE(svg->find("data-label=\"a&quot;b&apos;\""), std::string::npos);
}

TEST(WriteLineChartTest, MissingFontIsAClearError) {
  ChartOptions options;
  options.font_path = "/nonexistent/font.ttf";
  absl::Status status = WriteLineChart(TempPath("nofont.png"), SparsityCurves(), options);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("fonts-dejavu-core"), std::string::npos) << status;
}

TEST(RenderLineChartTest, BridgesOnlyFinitePointsInOrder) {
  ChartOptions options;
  Series with_gap{"", {0, 1, 2}, {0, kNaN, 0}, kBlue, false};
  Series without{"", {0, 1, 2}, {0, 0, 0}, kBlue, false};
  Series frame_holder{"", {0, 2}, {-1, 1}, 0x808080, false};  // same ranges for both charts
  auto gap = RenderLineChart({frame_holder, with_gap}, options);
  auto full = RenderLineChart({frame_holder, without}, options);
  ASSERT_TRUE(gap.ok() && full.ok());
  int x = Round(gap->frame.PixelX(1)), y = Round(gap->frame.PixelY(0));
  auto pixel = [](const RenderedChart& c, int x, int y) {
    const uint8_t* p = &c.rgb[(static_cast<size_t>(y) * c.width + x) * 3];
    return (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
  };
  EXPECT_EQ(pixel(*full, x, y), kBlue);
  EXPECT_NE(pixel(*gap, x, y), kBlue);
  EXPECT_EQ(gap->legend.right, 0);  // no labels, no legend
}

TEST(RenderLineChartTest, LogAxisPlacesDecadesEvenly) {
  ChartOptions options;
  options.log_y = true;
  Series s{"loss", {1, 2, 3}, {10, 100, 1000}, kRed, true};
  auto chart = RenderLineChart({s}, options);
  ASSERT_TRUE(chart.ok()) << chart.status();
  const ChartFrame& f = chart->frame;
  EXPECT_NEAR(f.PixelY(100), (f.PixelY(10) + f.PixelY(1000)) / 2, 1e-6);
  EXPECT_GT(f.PixelY(10), f.PixelY(1000));  // larger values higher up
  EXPECT_LT(f.y_lo, 10);
  EXPECT_GT(f.y_hi, 1000);
}

TEST(RenderLineChartTest, LegendAvoidsTheData) {
  ChartOptions options;
  Series rising{"rising", {}, {}, kRed, true};
  for (int i = 0; i <= 20; ++i) {
    rising.x.push_back(i);
    rising.y.push_back(i);
  }
  auto chart = RenderLineChart({rising}, options);
  ASSERT_TRUE(chart.ok());
  const Rect& legend = chart->legend;
  ASSERT_GT(legend.right, legend.left);
  for (int i = 0; i <= 20; ++i) {
    int x = Round(chart->frame.PixelX(i)), y = Round(chart->frame.PixelY(i));
    EXPECT_FALSE(legend.Contains(x, y)) << i;
  }
}

TEST(RenderLineChartTest, LargeChartsScaleUp) {
  ChartOptions options;
  options.width = 1600;
  options.height = 1000;
  options.title = "big";
  auto chart = RenderLineChart(SparsityCurves(), options);
  ASSERT_TRUE(chart.ok()) << chart.status();
  EXPECT_EQ(chart->rgb.size(), 1600u * 1000 * 3);
}

TEST(RenderLineChartTest, LongTextIsShortenedInsideTheImage) {
  ChartOptions options;
  options.width = 240;
  options.height = 160;
  options.title = std::string(200, 'W');
  options.x_label = std::string(200, 'W');
  options.y_label = std::string(200, 'W');
  auto chart =
      RenderLineChart({Series{std::string(100, 'W'), {1, 2}, {1, 2}, kRed, false}}, options);
  ASSERT_TRUE(chart.ok()) << chart.status();
  // The outer 12-pixel margin (the padding) stays blank on every side.
  for (int y = 0; y < chart->height; ++y) {
    for (int x = 0; x < chart->width; ++x) {
      if (x >= 12 && x < chart->width - 12 && y >= 12 && y < chart->height - 12) continue;
      const uint8_t* p = &chart->rgb[(static_cast<size_t>(y) * chart->width + x) * 3];
      ASSERT_EQ(p[0] & p[1] & p[2], 0xFF) << x << "," << y;
    }
  }
  EXPECT_LE(chart->legend.right - chart->legend.left,
            (chart->frame.plot.right - chart->frame.plot.left));
}

TEST(WriteLineChartTest, RejectsBadSeriesNamingThem) {
  ChartOptions options;
  const std::string path = TempPath("bad.png");
  auto message = [&](const std::vector<Series>& s, const ChartOptions& o) {
    absl::Status status = WriteLineChart(path, s, o);
    EXPECT_FALSE(status.ok());
    return std::string(status.message());
  };
  EXPECT_NE(message({}, options).find("no series"), std::string::npos);
  std::string m = message({Series{"ppl", {1, 2, 3}, {1, 2}, kRed, false}}, options);
  EXPECT_NE(m.find("'ppl'"), std::string::npos) << m;
  EXPECT_NE(m.find("3 x values but 2 y values"), std::string::npos) << m;
  m = message({Series{"ok", {1}, {1}, kRed, false}, Series{"", {}, {}, kRed, false}}, options);
  EXPECT_NE(m.find("#1"), std::string::npos) << m;
  EXPECT_NE(m.find("empty"), std::string::npos) << m;
  m = message({Series{"nan", {1, 2}, {kNaN, kNaN}, kRed, false}}, options);
  EXPECT_NE(m.find("'nan' has no finite point"), std::string::npos) << m;
  ChartOptions log = options;
  log.log_y = true;
  m = message({Series{"neg", {1, 2}, {-1, 0}, kRed, false}}, log);
  EXPECT_NE(m.find("logarithmic"), std::string::npos) << m;
  ChartOptions tiny = options;
  tiny.width = 50;
  EXPECT_NE(message({Series{"a", {1}, {1}, kRed, false}}, tiny).find("50x500"), std::string::npos);
  EXPECT_FALSE(FileExists(path));
}

TEST(RenderLineChartTest, SinglePointAndConstantSeriesStillPlot) {
  ChartOptions options;
  auto chart = RenderLineChart({Series{"one", {3}, {7}, kRed, false}}, options);
  ASSERT_TRUE(chart.ok()) << chart.status();
  const ChartFrame& f = chart->frame;
  EXPECT_LT(f.x_lo, 3);
  EXPECT_GT(f.x_hi, 3);
  int x = Round(f.PixelX(3)), y = Round(f.PixelY(7));
  const uint8_t* p = &chart->rgb[(static_cast<size_t>(y) * chart->width + x) * 3];
  EXPECT_EQ((uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2], kRed);
}

}  // namespace
}  // namespace plot
}  // namespace gisp
