#include "tools/plot/svg.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/plot/font.h"

namespace gisp {
namespace plot {
namespace {

std::string Color(Rgb rgb) { return absl::StrFormat("#%06x", rgb & 0xFFFFFF); }

// A pixel-centre coordinate on SVG's grid, shortest form ("12", "12.5", "12.25").
std::string Num(double v) {
  std::string s = absl::StrFormat("%.2f", v + 0.5);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

}  // namespace

std::string XmlEscape(absl::string_view text) {
  std::string out;
  for (uint32_t cp : DecodeUtf8(text)) {  // invalid UTF-8 becomes U+FFFD, never bad XML
    switch (cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (cp < 0x20 && cp != '\t') break;  // XML 1.0 cannot hold other control characters
        if (cp == 0xFFFE || cp == 0xFFFF) break;
        if (cp < 0x80) {
          out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
          out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
          out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
          out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
          out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
          out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
          out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
          out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    }
  }
  return out;
}

SvgPainter::SvgPainter(int width, int height, absl::string_view title,
                       absl::string_view font_family) {
  absl::StrAppend(&out_, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"", width,
                  "\" height=\"", height, "\" viewBox=\"0 0 ", width, " ", height,
                  "\" font-family=\"", XmlEscape(font_family), ", sans-serif\">\n");
  if (!title.empty()) absl::StrAppend(&out_, "<title>", XmlEscape(title), "</title>\n");
}

void SvgPainter::FillRect(const Rect& r, Rgb color) {
  absl::StrAppend(&out_, "<rect x=\"", r.left, "\" y=\"", r.top, "\" width=\"", r.right - r.left,
                  "\" height=\"", r.bottom - r.top, "\" fill=\"", Color(color), "\"/>\n");
}

void SvgPainter::StrokeRect(const Rect& r, Rgb color) {
  absl::StrAppend(&out_, "<rect x=\"", Num(r.left), "\" y=\"", Num(r.top), "\" width=\"",
                  r.right - r.left - 1, "\" height=\"", r.bottom - r.top - 1,
                  "\" fill=\"none\" stroke=\"", Color(color), "\" stroke-width=\"1\"/>\n");
}

void SvgPainter::HLine(int x0, int x1, int y, Rgb color) {
  absl::StrAppend(&out_, "<line x1=\"", std::min(x0, x1), "\" y1=\"", Num(y), "\" x2=\"",
                  std::max(x0, x1) + 1, "\" y2=\"", Num(y), "\" stroke=\"", Color(color),
                  "\" stroke-width=\"1\"/>\n");
}

void SvgPainter::VLine(int x, int y0, int y1, Rgb color) {
  absl::StrAppend(&out_, "<line x1=\"", Num(x), "\" y1=\"", std::min(y0, y1), "\" x2=\"", Num(x),
                  "\" y2=\"", std::max(y0, y1) + 1, "\" stroke=\"", Color(color),
                  "\" stroke-width=\"1\"/>\n");
}

void SvgPainter::Polyline(const std::vector<std::pair<double, double>>& points, double width,
                          Rgb color) {
  if (points.size() < 2) return;
  absl::StrAppend(&out_, "<polyline points=\"");
  for (size_t i = 0; i < points.size(); ++i) {
    absl::StrAppend(&out_, i ? " " : "", Num(points[i].first), ",", Num(points[i].second));
  }
  absl::StrAppend(&out_, "\" fill=\"none\" stroke=\"", Color(color), "\" stroke-width=\"", width,
                  "\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n");
}

void SvgPainter::Disc(double cx, double cy, double radius, Rgb color, absl::string_view note) {
  absl::StrAppend(&out_, "<circle cx=\"", Num(cx), "\" cy=\"", Num(cy), "\" r=\"", radius,
                  "\" fill=\"", Color(color), "\"");
  if (note.empty()) {
    absl::StrAppend(&out_, "/>\n");
  } else {
    absl::StrAppend(&out_, "><title>", XmlEscape(note), "</title></circle>\n");
  }
}

void SvgPainter::Text(int x, int baseline, absl::string_view text, int px, Rgb color, Anchor anchor,
                      bool up) {
  const char* a = anchor == Anchor::kStart ? "start" : anchor == Anchor::kMiddle ? "middle" : "end";
  // The raster puts the pen at the left edge of pixel x and the baseline under row baseline - 1.
  absl::StrAppend(&out_, "<text x=\"", x, "\" y=\"", baseline, "\" font-size=\"", px, "\" fill=\"",
                  Color(color), "\" text-anchor=\"", a, "\"");
  if (up) absl::StrAppend(&out_, " transform=\"rotate(-90 ", x, " ", baseline, ")\"");
  absl::StrAppend(&out_, ">", XmlEscape(text), "</text>\n");
}

void SvgPainter::BeginSeries(const Rect& clip, absl::string_view label) {
  ++clips_;
  absl::StrAppend(&out_, "<clipPath id=\"clip", clips_, "\"><rect x=\"", clip.left, "\" y=\"",
                  clip.top, "\" width=\"", clip.right - clip.left, "\" height=\"",
                  clip.bottom - clip.top,
                  "\"/></clipPath>\n<g class=\"series\" clip-path=\"url(#clip", clips_, ")\"");
  if (!label.empty()) absl::StrAppend(&out_, " data-label=\"", XmlEscape(label), "\"");
  absl::StrAppend(&out_, ">\n");
}

void SvgPainter::EndSeries() { absl::StrAppend(&out_, "</g>\n"); }

std::string SvgPainter::Finish() { return out_ + "</svg>\n"; }

}  // namespace plot
}  // namespace gisp
