#include "tools/plot/font.h"

#include <ft2build.h>
#include FT_FREETYPE_H

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "gisp/base/status.h"

namespace gisp {
namespace plot {

struct Font::Impl {
  FT_Library library = nullptr;
  FT_Face face = nullptr;
  int size = 0;
  ~Impl() {
    if (face) FT_Done_Face(face);
    if (library) FT_Done_FreeType(library);
  }
};

namespace {
// Light hinting: sharp horizontal stems at small sizes, widths close to the font's design.
constexpr FT_Int32 kLoadFlags = FT_LOAD_TARGET_LIGHT;
}  // namespace

std::vector<uint32_t> DecodeUtf8(absl::string_view text) {
  std::vector<uint32_t> out;
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = text[i];
    const int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    bool ok = n > 0 && i + n <= text.size();
    for (int k = 1; ok && k < n; ++k) {
      const unsigned char t = text[i + k];
      ok = (t >> 6) == 2;
      cp = (cp << 6) | (t & 0x3F);
    }
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};  // overlong forms
    ok = ok && cp >= kMin[n] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    out.push_back(ok ? cp : 0xFFFD);
    i += ok ? n : 1;
  }
  return out;
}

Font::Font(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  family_ = impl_->face->family_name ? impl_->face->family_name : "sans-serif";
}

Font::~Font() = default;

absl::StatusOr<std::unique_ptr<Font>> Font::Load(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  if (FT_Init_FreeType(&impl->library) != 0) {
    return absl::InternalError("FreeType failed to initialize");
  }
  const FT_Error err = FT_New_Face(impl->library, path.c_str(), 0, &impl->face);
  if (err != 0) {
    impl->face = nullptr;
    return absl::NotFoundError(
        absl::StrCat("cannot load the chart font ", path, " (FreeType error ", err,
                     "); the default comes from Debian's fonts-dejavu-core (tools/setup.sh)"));
  }
  if (!FT_IS_SCALABLE(impl->face)) {
    return absl::InvalidArgumentError(absl::StrCat("chart font ", path, " is not scalable"));
  }
  return std::unique_ptr<Font>(new Font(std::move(impl)));
}

bool Font::SetSize(int px) {
  if (impl_->size == px) return true;
  if (FT_Set_Pixel_Sizes(impl_->face, 0, std::max(1, px)) != 0) return false;
  impl_->size = px;
  return true;
}

int Font::Ascent(int px) {
  if (!SetSize(px)) return px;
  return static_cast<int>((impl_->face->size->metrics.ascender + 63) >> 6);
}

int Font::Descent(int px) {
  if (!SetSize(px)) return 0;
  return static_cast<int>((-impl_->face->size->metrics.descender + 63) >> 6);
}

int Font::Width(absl::string_view text, int px) {
  if (!SetSize(px)) return 0;
  int width = 0;
  for (uint32_t cp : DecodeUtf8(text)) {
    const FT_UInt glyph = FT_Get_Char_Index(impl_->face, cp);
    auto it = advances_.find({px, glyph});
    if (it == advances_.end()) {
      int advance = 0;
      if (FT_Load_Glyph(impl_->face, glyph, kLoadFlags) == 0) {
        advance = static_cast<int>((impl_->face->glyph->advance.x + 32) >> 6);
      }
      it = advances_.emplace(std::make_pair(px, glyph), advance).first;
    }
    width += it->second;
  }
  return width;
}

TextMask Font::Render(absl::string_view text, int px) {
  TextMask mask;
  const int width = Width(text, px);  // also sets the size
  mask.ascent = Ascent(px);
  mask.height = mask.ascent + Descent(px);
  mask.origin = px / 4;  // room for overhangs (italic-like tails, 'j')
  mask.width = width + 2 * mask.origin;
  mask.alpha.assign(static_cast<size_t>(mask.width) * mask.height, 0);
  int pen = mask.origin;
  for (uint32_t cp : DecodeUtf8(text)) {
    const FT_UInt glyph = FT_Get_Char_Index(impl_->face, cp);
    if (FT_Load_Glyph(impl_->face, glyph, kLoadFlags | FT_LOAD_RENDER) != 0) continue;
    const FT_GlyphSlot slot = impl_->face->glyph;
    const FT_Bitmap& bm = slot->bitmap;
    if (bm.pixel_mode == FT_PIXEL_MODE_GRAY) {
      for (unsigned r = 0; r < bm.rows; ++r) {
        const int y = mask.ascent - slot->bitmap_top + static_cast<int>(r);
        if (y < 0 || y >= mask.height) continue;
        for (unsigned c = 0; c < bm.width; ++c) {
          const int x = pen + slot->bitmap_left + static_cast<int>(c);
          if (x < 0 || x >= mask.width) continue;
          uint8_t& a = mask.alpha[static_cast<size_t>(y) * mask.width + x];
          a = std::max(a, bm.buffer[static_cast<ptrdiff_t>(r) * bm.pitch + c]);
        }
      }
    }
    pen += static_cast<int>((slot->advance.x + 32) >> 6);
  }
  return mask;
}

}  // namespace plot
}  // namespace gisp
