// Encoding throughput of a tokenizer on a text file, e.g. the whole King James Version:
//   bible -l1000 "Gen1:1-Rev22:21" > /tmp/kjv.txt
//   bazel run //gisp/io/tokenizer:tokenizer_bench -- $PWD/testdata/tokenizers/llama3_bpe
//   /tmp/kjv.txt
// Prints tokens/s for a cold and a warm word cache, and with several threads sharing one
// tokenizer. With a third argument, also writes the ids (one per line, no special tokens) there,
// for comparing a real tokenizer.json with the Python library outside the test fixtures.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/io/tokenizer/tokenizer.h"

namespace {

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s <tokenizer dir> <text file> [ids output]\n", argv[0]);
    return 2;
  }
  const auto load_start = std::chrono::steady_clock::now();
  auto tok = gisp::Tokenizer::Load(argv[1]);
  const double load_sec = Seconds(load_start);
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", std::string(tok.status().message()).c_str());
    return 1;
  }
  auto text = gisp::ReadFile(argv[2]);
  if (!text.ok()) {
    std::fprintf(stderr, "%s\n", std::string(text.status().message()).c_str());
    return 1;
  }
  std::printf("%s (%s, %d ids, loaded in %.3f s), %zu bytes of text\n", argv[1],
              (*tok)->kind().c_str(), (*tok)->vocab_size(), load_sec, text->size());
  for (const char* pass : {"cold cache", "warm cache"}) {
    const auto t0 = std::chrono::steady_clock::now();
    auto ids = (*tok)->Encode(*text, false);
    const double sec = Seconds(t0);
    if (!ids.ok()) return 1;
    if (argc == 4 && pass[0] == 'c') {
      std::string lines;
      for (int32_t id : *ids) absl::StrAppend(&lines, id, "\n");
      if (!gisp::WriteFileAtomic(argv[3], lines).ok()) return 1;
    }
    std::printf("  1 thread, %s: %zu tokens in %.3f s = %.2fM tokens/s (%.1f MB/s)\n", pass,
                ids->size(), sec, ids->size() / sec / 1e6, text->size() / sec / 1e6);
  }
  const unsigned threads = std::max(2u, std::thread::hardware_concurrency());
  std::vector<std::string> parts;
  const size_t step = text->size() / threads + 1;
  for (size_t i = 0; i < text->size(); i += step) {
    size_t end = std::min(text->size(), i + step);
    while (end < text->size() && (*text)[end] != '\n') ++end;  // whole lines
    parts.push_back(text->substr(i, end - i));
    i = end - step;
  }
  std::vector<size_t> counts(parts.size());
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (size_t t = 0; t < parts.size(); ++t) {
    pool.emplace_back([&, t] {
      auto ids = (*tok)->Encode(parts[t], false);
      counts[t] = ids.ok() ? ids->size() : 0;
    });
  }
  for (std::thread& th : pool) th.join();
  const double sec = Seconds(t0);
  size_t total = 0;
  for (size_t c : counts) total += c;
  std::printf("  %zu threads, warm cache: %zu tokens in %.3f s = %.2fM tokens/s\n", parts.size(),
              total, sec, total / sec / 1e6);
  return 0;
}
