// Where a tensor's memory lives: host memory, or the memory of CUDA device n.
#pragma once

#include <optional>
#include <string>

namespace pans {

enum class DeviceType { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device& other) const { return type == other.type && index == other.index; }
  bool operator!=(const Device& other) const { return !(*this == other); }
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

// Parses "cpu", "cuda" or "cuda:N" (command-line flags); throws pans::Error naming the text otherwise.
Device parse_device(const std::string& text);

// The device a command-line flag names, checked to be usable; without the flag, the first GPU when
// one is usable, else the CPU. Throws pans::Error naming `flag` and, for a GPU that is not there,
// why none is usable (tensor/cuda_runtime.h).
Device device_from_flag(const std::optional<std::string>& value, const std::string& flag = "--device");

}  // namespace pans
