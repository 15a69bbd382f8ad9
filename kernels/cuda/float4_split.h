// How an elementwise kernel over several float arrays of one length splits the index range into
// 16-byte float4 loads and stores plus single floats, given where the arrays start in memory.
//
// A float4 access needs a 16-byte-aligned address. Arrays that start at the same offset modulo 16
// bytes (whole tensors from the allocator, or narrow() views of the same shape) share one split:
//   [0, head)                       scalars, up to the first 16-byte boundary;
//   [head, head + 4 * vectors)      float4s;
//   [head + 4 * vectors, count)     scalars, the tail (count - head not a multiple of 4).
// Arrays whose offsets differ modulo 16 bytes cannot all be aligned at once: everything is scalar
// (head = count, vectors = 0). Scalar number k of a thread's loop is element scalar_index(k).
#pragma once

#include <cstdint>
#include <initializer_list>

#include "tensor/host_device.h"

namespace pans::cuda {

struct Float4Split {
  std::int64_t head = 0, vectors = 0, scalars = 0;

  PANS_HOST_DEVICE std::int64_t scalar_index(std::int64_t k) const { return k < head ? k : k + 4 * vectors; }
};

// `pointers` address float arrays (4-byte aligned) of `count` elements each.
inline Float4Split float4_split(std::int64_t count, std::initializer_list<const void*> pointers) {
  constexpr std::uintptr_t kVectorBytes = 16;
  const std::uintptr_t misalignment = reinterpret_cast<std::uintptr_t>(*pointers.begin()) % kVectorBytes;
  bool shared_alignment = true;
  for (const void* pointer : pointers)
    shared_alignment = shared_alignment && reinterpret_cast<std::uintptr_t>(pointer) % kVectorBytes == misalignment;
  Float4Split split;
  if (!shared_alignment || misalignment % sizeof(float) != 0) {
    split.head = count;
    split.scalars = count;
    return split;
  }
  const std::int64_t to_boundary = std::int64_t((kVectorBytes - misalignment) % kVectorBytes / sizeof(float));
  split.head = to_boundary < count ? to_boundary : count;
  split.vectors = (count - split.head) / 4;
  split.scalars = count - 4 * split.vectors;
  return split;
}

}  // namespace pans::cuda
