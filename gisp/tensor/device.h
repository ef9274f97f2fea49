// Where memory lives. Kept apart from Backend (who runs math) so buffers can be described without
// pulling in any compute code.
#ifndef GISP_TENSOR_DEVICE_H_
#define GISP_TENSOR_DEVICE_H_

#include <string>

namespace gisp {

struct Device {
  enum class Kind { kCpu = 0, kCuda = 1 };
  Kind kind = Kind::kCpu;
  int index = 0;

  static Device Cpu() { return Device{Kind::kCpu, 0}; }
  static Device Cuda(int index) { return Device{Kind::kCuda, index}; }
  bool is_cpu() const { return kind == Kind::kCpu; }
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string ToString() const;
};

}  // namespace gisp

#endif  // GISP_TENSOR_DEVICE_H_
