// An SVG 1.1 document built through the Painter interface: shapes keep the raster's geometry
// (pixel centres shift by half a unit onto SVG's grid) and text stays text, in the font family
// the layout measured with.
#ifndef GISP_TOOLS_PLOT_SVG_H_
#define GISP_TOOLS_PLOT_SVG_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "tools/plot/painter.h"

namespace gisp {
namespace plot {

// `text` with &, <, >, " and ' escaped, control characters other than tab dropped and invalid
// UTF-8 replaced by U+FFFD, so any label yields well-formed XML.
std::string XmlEscape(absl::string_view text);

class SvgPainter : public Painter {
 public:
  SvgPainter(int width, int height, absl::string_view title, absl::string_view font_family);
  void FillRect(const Rect& r, Rgb color) override;
  void StrokeRect(const Rect& r, Rgb color) override;
  void HLine(int x0, int x1, int y, Rgb color) override;
  void VLine(int x, int y0, int y1, Rgb color) override;
  void Polyline(const std::vector<std::pair<double, double>>& points, double width,
                Rgb color) override;
  void Disc(double cx, double cy, double radius, Rgb color, absl::string_view note) override;
  void Text(int x, int baseline, absl::string_view text, int px, Rgb color, Anchor anchor,
            bool up) override;
  void BeginSeries(const Rect& clip, absl::string_view label) override;
  void EndSeries() override;
  // The finished document.
  std::string Finish();

 private:
  std::string out_;
  int clips_ = 0;
};

}  // namespace plot
}  // namespace gisp

#endif  // GISP_TOOLS_PLOT_SVG_H_
