// A minimal wrapper of libsentencepiece that exposes only standard types. Debian's
// sentencepiece headers declare their own `absl::string_view`, which clashes with Abseil's, so
// they are included in sp_processor.cc alone, never next to Abseil headers.
#ifndef GISP_IO_TOKENIZER_SP_PROCESSOR_H_
#define GISP_IO_TOKENIZER_SP_PROCESSOR_H_

#include <memory>
#include <string>
#include <vector>

namespace gisp {

class SpProcessor {
 public:
  SpProcessor();
  ~SpProcessor();
  // "" on success, else the library's message.
  std::string Load(const std::string& path);
  std::string Encode(const std::string& text, std::vector<int>* ids) const;
  std::string Decode(const std::vector<int>& ids, std::string* text) const;
  int PieceSize() const;
  int BosId() const;
  int EosId() const;
  bool IsControl(int id) const;
  std::string IdToPiece(int id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gisp

#endif  // GISP_IO_TOKENIZER_SP_PROCESSOR_H_
