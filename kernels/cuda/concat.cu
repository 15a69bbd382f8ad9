// Channel concatenation and split of NHWC tensors of float32 or bfloat16 storage (T = float or
// pans::bf16: a copy, so a bfloat16 element moves as its 16-bit pattern, unchanged). The parts
// travel to the kernel in a small struct passed by value (kernel parameter memory, no device-side
// table to allocate or copy); more than kMaxParts parts are handled by several launches, each
// writing its own channel range of the whole.
#include "kernels/cuda/concat.h"
#include "kernels/cuda/grid_stride.h"
#include "kernels/cuda/launch.h"
#include "tensor/dtype.h"

namespace pans::cuda {
namespace {

constexpr unsigned int kThreads = 256;
constexpr int kMaxParts = 8;  // the PSP head concatenates five

// Up to kMaxParts parts covering the whole's channels [first, first + channel_end[count - 1]);
// part j holds the chunk's channels [channel_end[j - 1] (0 for j = 0), channel_end[j]).
template <class Pointer>
struct ChannelParts {
  Pointer data[kMaxParts];
  std::int64_t channel_end[kMaxParts];
  int count;
  std::int64_t first;  // the chunk's first channel in the whole
  std::int64_t total;  // the whole's channels
};

// The part holding chunk channel `c` and that part's first channel. A linear scan: at most eight
// compares, and the last part whose range starts at or before c wins, which skips empty parts.
template <class Pointer>
__device__ __forceinline__ int part_of(const ChannelParts<Pointer>& parts, std::int64_t c, std::int64_t& begin) {
  int part = 0;
  begin = 0;
  for (int j = 1; j < parts.count; ++j)
    if (c >= parts.channel_end[j - 1]) {
      part = j;
      begin = parts.channel_end[j - 1];
    }
  return part;
}

// whole[p, first + c] = part[p, c - begin] for the chunk's channels c.
// Mapping: one thread per (pixel, chunk channel), channel fastest, grid-stride: consecutive
// threads write consecutive elements of the whole and read consecutive elements of one part.
// Bound: bandwidth, 2 * sizeof(T) bytes per element: 8 B for float32, 4 B for bfloat16.
template <class T>
__global__ void concat_channels_part_lookup(std::int64_t pixels, ChannelParts<const T*> parts, T* whole) {
  const std::int64_t width = parts.channel_end[parts.count - 1];
  const std::int64_t count = pixels * width;
  for (std::int64_t i : grid_stride_range(count)) {
    const std::int64_t p = i / width, c = i % width;
    std::int64_t begin = 0;
    const int j = part_of(parts, c, begin);
    whole[p * parts.total + parts.first + c] = parts.data[j][p * (parts.channel_end[j] - begin) + c - begin];
  }
}

// part[p, c - begin] = whole[p, first + c]; the mirror of concat_channels_part_lookup (mapping and
// bytes per element alike).
template <class T>
__global__ void split_channels_part_lookup(std::int64_t pixels, const T* whole, ChannelParts<T*> parts) {
  const std::int64_t width = parts.channel_end[parts.count - 1];
  const std::int64_t count = pixels * width;
  for (std::int64_t i : grid_stride_range(count)) {
    const std::int64_t p = i / width, c = i % width;
    std::int64_t begin = 0;
    const int j = part_of(parts, c, begin);
    parts.data[j][p * (parts.channel_end[j] - begin) + c - begin] = whole[p * parts.total + parts.first + c];
  }
}

// Calls launch_chunk(ChannelParts) for each run of up to kMaxParts parts.
template <class Pointer, class LaunchChunk>
void for_each_chunk(const std::vector<std::int64_t>& channels, const std::vector<Pointer>& pointers,
                    LaunchChunk launch_chunk) {
  std::int64_t total = 0;
  for (std::int64_t c : channels) total += c;
  std::int64_t first = 0;
  for (std::size_t start = 0; start < pointers.size(); start += kMaxParts) {
    ChannelParts<Pointer> parts{};
    parts.first = first;
    parts.total = total;
    std::int64_t width = 0;
    for (std::size_t j = start; j < pointers.size() && j < start + kMaxParts; ++j) {
      parts.data[parts.count] = pointers[j];
      width += channels[j];
      parts.channel_end[parts.count] = width;
      ++parts.count;
    }
    if (width > 0) launch_chunk(parts, width);
    first += width;
  }
}

}  // namespace

template <class T>
void concat_channels(std::int64_t pixels, const std::vector<std::int64_t>& channels, const std::vector<const T*>& parts,
                     T* whole) {
  if (pixels == 0) return;
  for_each_chunk(channels, parts, [&](const ChannelParts<const T*>& chunk, std::int64_t width) {
    launch("concat_channels_part_lookup", concat_channels_part_lookup<T>, grid_for(pixels * width, kThreads), kThreads,
           0, cudaStreamLegacy, pixels, chunk, whole);
  });
}

template <class T>
void split_channels(std::int64_t pixels, const std::vector<std::int64_t>& channels, const T* whole,
                    const std::vector<T*>& parts) {
  if (pixels == 0) return;
  for_each_chunk(channels, parts, [&](const ChannelParts<T*>& chunk, std::int64_t width) {
    launch("split_channels_part_lookup", split_channels_part_lookup<T>, grid_for(pixels * width, kThreads), kThreads, 0,
           cudaStreamLegacy, pixels, whole, chunk);
  });
}

template void concat_channels<float>(std::int64_t, const std::vector<std::int64_t>&, const std::vector<const float*>&,
                                     float*);
template void concat_channels<bf16>(std::int64_t, const std::vector<std::int64_t>&, const std::vector<const bf16*>&,
                                    bf16*);
template void split_channels<float>(std::int64_t, const std::vector<std::int64_t>&, const float*,
                                    const std::vector<float*>&);
template void split_channels<bf16>(std::int64_t, const std::vector<std::int64_t>&, const bf16*,
                                   const std::vector<bf16*>&);

}  // namespace pans::cuda
