// Strided loops, the one way pans' kernels walk an index range that may be longer than their grid
// (or, for a block that owns its work, than the block):
//   for (std::int64_t i : grid_stride_range(count)) ...
// gives the thread t of a 1-D grid of T threads the indices t, t + T, t + 2T, ... below count. Any
// grid is correct, so launchers size it with grid_for (kernels/cuda/launch.h), which on the
// emulator leaves a few blocks that each stride over many elements.
//
// The ranges only compute indices from the built-in variables; they never synchronise. Threads of
// one warp may run different trip counts, so a body with a warp collective or a barrier needs a
// range whose trip count the participating threads share: warp_grid_stride_range gives all lanes
// of a warp the same indices.
#pragma once

namespace pans::cuda {

// The indices first, first + stride, ... below limit, for range-based for loops.
template <class Index>
struct StridedRange {
  struct End {
    Index limit;
  };
  struct Iterator {
    Index index, stride;
    __device__ __forceinline__ Index operator*() const { return index; }
    __device__ __forceinline__ Iterator& operator++() {
      index += stride;
      return *this;
    }
    __device__ __forceinline__ bool operator!=(End end) const { return index < end.limit; }
  };

  Index first, limit, stride;

  __device__ __forceinline__ Iterator begin() const { return {first, stride}; }
  __device__ __forceinline__ End end() const { return {limit}; }
};

// Thread per index over [begin, end), the grid's threads along x striding together.
template <class Index>
__device__ __forceinline__ StridedRange<Index> grid_stride_range(Index begin, Index end) {
  return {begin + Index(blockIdx.x) * Index(blockDim.x) + Index(threadIdx.x), end,
          Index(gridDim.x) * Index(blockDim.x)};
}
template <class Index>
__device__ __forceinline__ StridedRange<Index> grid_stride_range(Index count) {
  return grid_stride_range(Index(0), count);
}

// Warp per index over [0, count): warp w of the grid's W warps along x takes w, w + W, ...; every
// lane of a warp gets the same indices. blockDim.x must be a multiple of 32.
template <class Index>
__device__ __forceinline__ StridedRange<Index> warp_grid_stride_range(Index count) {
  const Index warps = Index(blockDim.x / 32);
  return {Index(blockIdx.x) * warps + Index(threadIdx.x / 32), count, Index(gridDim.x) * warps};
}

// Thread per index over [0, count), the threads of one block striding together (a block that owns
// a piece of work of its own).
template <class Index>
__device__ __forceinline__ StridedRange<Index> block_stride_range(Index count) {
  return {Index(threadIdx.x), count, Index(blockDim.x)};
}

}  // namespace pans::cuda
