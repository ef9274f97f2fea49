#include "gisp/io/tokenizer/sp_processor.h"

#include <sentencepiece_processor.h>

namespace gisp {

struct SpProcessor::Impl {
  sentencepiece::SentencePieceProcessor sp;
};

SpProcessor::SpProcessor() : impl_(new Impl()) {}
SpProcessor::~SpProcessor() = default;

std::string SpProcessor::Load(const std::string& path) {
  const auto s = impl_->sp.Load(path);
  return s.ok() ? std::string() : s.ToString();
}

std::string SpProcessor::Encode(const std::string& text, std::vector<int>* ids) const {
  const auto s = impl_->sp.Encode(text, ids);
  return s.ok() ? std::string() : s.ToString();
}

std::string SpProcessor::Decode(const std::vector<int>& ids, std::string* text) const {
  const auto s = impl_->sp.Decode(ids, text);
  return s.ok() ? std::string() : s.ToString();
}

int SpProcessor::PieceSize() const { return impl_->sp.GetPieceSize(); }
int SpProcessor::BosId() const { return impl_->sp.bos_id(); }
int SpProcessor::EosId() const { return impl_->sp.eos_id(); }
bool SpProcessor::IsControl(int id) const { return impl_->sp.IsControl(id); }
std::string SpProcessor::IdToPiece(int id) const { return impl_->sp.IdToPiece(id); }

}  // namespace gisp
