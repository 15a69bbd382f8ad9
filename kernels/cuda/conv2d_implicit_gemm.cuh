// Implicit-GEMM convolution on tensor cores (mma.sync), included by kernels/cuda/conv2d.cu.
//
// Each pass of the convolution is one GEMM  C[M][N] = sum_k A[M][K] B[K][N]  whose operands are
// never materialised: the loaders gather each tile's elements straight from the NHWC activations and
// the {out,kh,kw,in} weights (im2col on the fly), zero-filling padding and out-of-range rows.
//
//   pass      M                  N                  K                  A            B            C
//   forward   N*Ho*Wo out pixels Cout               KH*KW*Cin          x (gather)   w            y
//   dgrad     N*H*W in pixels    Cin                KH*KW*Cout         dy (gather)  w            dx
//   wgrad     Cout               KH*KW*Cin          N*Ho*Wo            dy           x (gather)   dw partials
//
// The K index of a tap-major operand is (ky, kx, c) with c fastest, so a 16-byte chunk of 4 floats
// (or 8 bfloat16) along K is 4 consecutive channels of one pixel: one cp.async. In global memory
// each operand is contiguous along K (forward A and B, dgrad A) or along its M/N extent (dgrad B:
// w's ci; wgrad A: dy's co and B: x's ci); its shared tile keeps that layout (Major::K or
// Major::MN) so every cp.async chunk lands whole, and the fragment loads read whichever layout.
//
// Block: 128 threads = 4 warps in 2 x 2 over a BM x 64 output tile (BM = 64 or 128), each warp
// a (BM/2) x 32 tile = (BM/32) x 4 mma tiles of 16 x 8. K advances 32 elements per step through a
// 3-stage cp.async pipeline (stage i+2 loads while stage i is multiplied; one __syncthreads per
// step). float32 tensors: mma m16n8k8 tf32; each thread rounds its own landed chunks to tf32 in
// place (kernels/cuda/tf32.h, before the step's barrier), then fragments are read with ldmatrix
// from Major::K tiles and plain shared loads from Major::MN ones (wgrad's A stays exact for its
// row sums and is rounded as it is read); bfloat16 tensors: mma m16n8k16 bf16, fragments loaded
// with ldmatrix (.trans for Major::MN tiles). Accumulators fp32 in registers; the epilogue adds
// the bias and stores directly, two adjacent columns per store where out is aligned for it.
//
// Padding, stride and dilation live only in the gathers: a chunk whose source pixel falls outside
// the image (or, in dgrad, whose output pixel does not exist because (i + p - k*d) is not a
// multiple of the stride) is a cp.async with source size 0, which zero-fills it. dgrad thus runs
// the full K = KH*KW*Cout for every input pixel; with stride 2 about 3/4 of its chunks are zero
// (the res3 3x3/2 and the 1x1/2 projection only), a cost traded for one simple kernel.
//
// Preconditions: Cin and Cout multiples of the chunk (4 floats, 8 bfloat16) and the pointers read
// 16-byte aligned (the dispatch asks conv2d_tensor_core_misfit); every GEMM extent below 2^31 (the
// launcher checks).
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ptx.h"
#include "kernels/cuda/tf32.h"
#include "kernels/shared/conv2d_geometry.h"
#include "kernels/shared/float_storage.h"
#include "tensor/dtype.h"

// Loops over fragments, accumulators and a thread's chunks must unroll, or nvcc keeps the arrays
// they index in local memory. (g++ builds the emulator, which needs no hint.)
#if defined(__CUDACC__)
#define PANS_CONV_UNROLL _Pragma("unroll")
#else
#define PANS_CONV_UNROLL
#endif

namespace pans::cuda::implicit_gemm {

constexpr int kThreads = 128;  // 4 warps, 2 x 2 over the block tile
constexpr int kBlockN = 64;
constexpr int kBlockK = 32;  // elements of K per pipeline stage
constexpr int kStages = 3;

// Which extent of a shared tile is contiguous: K (rows are M or N indices) or the M/N extent
// (rows are K indices).
enum class Major { K, MN };

template <class T>
constexpr int kChunk = 16 / int(sizeof(T));  // elements per 16-byte cp.async

// One operand's shared tile for one stage: Rows (its M or N extent) x kBlockK. Row padding keeps
// fragment reads conflict-free: Major::K rows of 32 + 16 bytes put the 8 rows a tf32 fragment read
// touches 4 banks apart (and ldmatrix's 8 row addresses in distinct 16-byte bank groups);
// Major::MN rows of Rows + 8 elements put consecutive K rows 8 floats (or 16 bytes) apart.
template <class T, int Rows, Major kMajor>
struct SharedTile {
  static constexpr int kLead = kMajor == Major::K ? kBlockK + kChunk<T> : Rows + 8;
  static constexpr int kElements = (kMajor == Major::K ? Rows : kBlockK) * kLead;
  __device__ __forceinline__ static int offset(int mn, int k) {
    return kMajor == Major::K ? mn * kLead + k : k * kLead + mn;
  }
};

// ---- gathers: where each 16-byte chunk of an operand comes from ------------------------------
// A gather splits an element's offset into the part fixed by its M/N index (`Fixed`, computed
// once per thread) and the part that moves with K (`Step`). step(k) decomposes a K index once, with
// divisions; advance() moves a Step kBlockK further along K with counters instead: adds, and a
// wrap (no division) only when the stage crosses into the next tap or image row. chunk() adds the
// two 32-bit offsets (from the operand's base) and says whether the chunk is real or zero (padding,
// out of range). Offsets
// are int: the launcher checks that every operand's elements, plus the overshoot of a padded or
// past-the-end chunk's offset (which is computed but never read), fit (implicit_gemm_offsets_fit).

struct Chunk {
  int offset;  // elements from the operand's base
  bool valid;  // false: a zero chunk, read from nowhere
};

__device__ __forceinline__ int clamp_index(bool valid, int index) { return valid ? index : 0; }
__device__ __forceinline__ bool in_range(int i, int n) { return unsigned(i) < unsigned(n); }

// forward A: row m = output pixel (n, oy, ox), k = (ky, kx, ci)
//   -> x[n, oy*s - p + ky*d, ox*s - p + kx*d, ci].
template <class T>
struct ForwardInputGather {
  static constexpr Major kMajor = Major::K;
  BasicConv2dGeometry<int> s;
  const T* x;
  struct Fixed {
    int offset;  // of x[n, iy0, ix0, 0] (iy0, ix0 may be negative: padding)
    int iy0, ix0;
    bool valid;
  };
  struct Step {
    int ky, kx, channel;
    int dy, dx, offset;  // ky*d, kx*d, and the offset (dy*W + dx)*C + channel
  };
  __device__ Fixed fixed(int m) const {
    const bool valid = m < s.batch * s.out_height * s.out_width;
    const int pixel = clamp_index(valid, m), plane = s.out_height * s.out_width;
    const int n = pixel / plane, oy = pixel % plane / s.out_width, ox = pixel % s.out_width;
    const int iy0 = oy * s.stride - s.padding, ix0 = ox * s.stride - s.padding;
    return {((n * s.in_height + iy0) * s.in_width + ix0) * s.in_channels, iy0, ix0, valid};
  }
  __device__ Step at(int ky, int kx, int channel) const {
    const int dy = ky * s.dilation, dx = kx * s.dilation;
    return {ky, kx, channel, dy, dx, (dy * s.in_width + dx) * s.in_channels + channel};
  }
  __device__ Step step(int k) const {
    const int tap = k / s.in_channels;
    return at(tap / s.kernel_width, tap % s.kernel_width, k % s.in_channels);
  }
  __device__ void advance(Step& t) const {
    t.channel += kBlockK;
    t.offset += kBlockK;
    if (t.channel < s.in_channels) return;
    int ky = t.ky, kx = t.kx, channel = t.channel;
    do {
      channel -= s.in_channels;
      if (++kx == s.kernel_width) kx = 0, ++ky;
    } while (channel >= s.in_channels);
    t = at(ky, kx, channel);
  }
  __device__ Chunk chunk(const Fixed& f, const Step& t) const {
    // t.ky < KH: k < K, as K = KH*KW*Cin.
    const bool inside =
        f.valid && t.ky < s.kernel_height && in_range(f.iy0 + t.dy, s.in_height) && in_range(f.ix0 + t.dx, s.in_width);
    return {f.offset + t.offset, inside};
  }
  __device__ const T* base() const { return x; }
};

// forward B, stored [n][k]: column n = co, k = (ky, kx, ci) -> w[co][k] (w is {Cout, K} row-major).
template <class T>
struct ForwardWeightGather {
  static constexpr Major kMajor = Major::K;
  BasicConv2dGeometry<int> s;
  const T* w;
  struct Fixed {
    int row;
    bool valid;
  };
  struct Step {
    int k;
  };
  __device__ int depth() const { return s.kernel_height * s.kernel_width * s.in_channels; }
  __device__ Fixed fixed(int co) const {
    const bool valid = co < s.out_channels;
    return {clamp_index(valid, co) * depth(), valid};
  }
  __device__ Step step(int k) const { return {k}; }
  __device__ void advance(Step& t) const { t.k += kBlockK; }
  __device__ Chunk chunk(const Fixed& f, const Step& t) const { return {f.row + t.k, f.valid && t.k < depth()}; }
  __device__ const T* base() const { return w; }
};

// dgrad A: row m = input pixel (n, iy, ix), k = (ky, kx, co) -> dy[n, oy, ox, co] where
// oy*s = iy + p - ky*d (zero when that is negative, not a multiple of s, or oy >= Ho); same for x.
// With ty = iy + p = s*oy0 + ry and ky*d = s*q + r, that is: r == ry and oy = oy0 - q in [0, Ho);
// the row keeps (oy0, ry), the Step (q, r), so no chunk divides by the stride.
template <class T>
struct BackwardInputGradGather {
  static constexpr Major kMajor = Major::K;
  BasicConv2dGeometry<int> s;
  const T* dy;
  int dilation_q, dilation_r;  // d / s and d % s, divided by the launcher
  struct Fixed {
    int offset;  // of dy[n, oy0, ox0, 0]
    int oy0, ox0;
    int residue;  // ry * s + rx
    bool valid;
  };
  struct Step {
    int ky, kx, channel;
    int qy, ry, qx, rx;   // ky*d = s*qy + ry, kx*d = s*qx + rx
    int residue, offset;  // ry * s + rx, channel - (qy*Wo + qx)*Co
  };
  __device__ Fixed fixed(int m) const {
    const bool valid = m < s.batch * s.in_height * s.in_width;
    const int pixel = clamp_index(valid, m), plane = s.in_height * s.in_width;
    const int n = pixel / plane, ty = pixel % plane / s.in_width + s.padding, tx = pixel % s.in_width + s.padding;
    const int oy0 = ty / s.stride, ox0 = tx / s.stride;
    return {((n * s.out_height + oy0) * s.out_width + ox0) * s.out_channels, oy0, ox0,
            ty % s.stride * s.stride + tx % s.stride, valid};
  }
  __device__ Step at(int ky, int kx, int channel, int qy, int ry, int qx, int rx) const {
    return {ky, kx, channel, qy, ry, qx, rx, ry * s.stride + rx, channel - (qy * s.out_width + qx) * s.out_channels};
  }
  __device__ Step step(int k) const {  // divides: once per thread
    const int tap = k / s.out_channels;
    const int dy = tap / s.kernel_width * s.dilation, dx = tap % s.kernel_width * s.dilation;
    return at(tap / s.kernel_width, tap % s.kernel_width, k % s.out_channels, dy / s.stride, dy % s.stride,
              dx / s.stride, dx % s.stride);
  }
  // A tap further along x, or at the row's end back to kx = 0 and down one: the tap's (q, r) move
  // by (d / s, d % s), r carrying into q, so the wrap divides nothing either.
  __device__ void advance(Step& t) const {
    t.channel += kBlockK;
    t.offset += kBlockK;
    if (t.channel < s.out_channels) return;
    int ky = t.ky, kx = t.kx, channel = t.channel, qy = t.qy, ry = t.ry, qx = t.qx, rx = t.rx;
    do {
      channel -= s.out_channels;
      if (++kx == s.kernel_width) {
        kx = qx = rx = 0;
        ++ky;
        qy += dilation_q;
        ry += dilation_r;
        if (ry >= s.stride) ry -= s.stride, ++qy;
      } else {
        qx += dilation_q;
        rx += dilation_r;
        if (rx >= s.stride) rx -= s.stride, ++qx;
      }
    } while (channel >= s.out_channels);
    t = at(ky, kx, channel, qy, ry, qx, rx);
  }
  __device__ Chunk chunk(const Fixed& f, const Step& t) const {
    const bool inside = f.valid && t.ky < s.kernel_height && f.residue == t.residue &&
                        in_range(f.oy0 - t.qy, s.out_height) && in_range(f.ox0 - t.qx, s.out_width);
    return {f.offset + t.offset, inside};
  }
  __device__ const T* base() const { return dy; }
};

// dgrad B, stored [k][n]: k = (ky, kx, co), column n = ci -> w[co, ky, kx, ci].
template <class T>
struct BackwardInputWeightGather {
  static constexpr Major kMajor = Major::MN;
  BasicConv2dGeometry<int> s;
  const T* w;
  struct Fixed {
    int channel;
    bool valid;
  };
  struct Step {
    int tap, co, offset;  // offset of w[co, tap, 0]
  };
  __device__ int taps() const { return s.kernel_height * s.kernel_width; }
  __device__ Fixed fixed(int ci) const { return {ci, ci < s.in_channels}; }
  __device__ Step step(int k) const {
    const int tap = k / s.out_channels, co = k % s.out_channels;
    return {tap, co, (co * taps() + tap) * s.in_channels};
  }
  __device__ void advance(Step& t) const {
    t.co += kBlockK;
    t.offset += kBlockK * taps() * s.in_channels;
    while (t.co >= s.out_channels) {
      t.co -= s.out_channels;
      ++t.tap;
      t.offset += s.in_channels - s.out_channels * taps() * s.in_channels;
    }
  }
  __device__ Chunk chunk(const Fixed& f, const Step& t) const {
    return {t.offset + f.channel, f.valid && t.tap < taps()};
  }
  __device__ const T* base() const { return w; }
};

// wgrad A, stored [k][m]: k = output pixel, row m = co -> dy[pixel, co].
template <class T>
struct WeightGradOutputGather {
  static constexpr Major kMajor = Major::MN;
  BasicConv2dGeometry<int> s;
  const T* dy;
  struct Fixed {
    int channel;
    bool valid;
  };
  struct Step {
    int pixel, offset;  // offset = pixel * Cout
  };
  __device__ Fixed fixed(int co) const { return {co, co < s.out_channels}; }
  __device__ Step step(int k) const { return {k, k * s.out_channels}; }
  __device__ void advance(Step& t) const {
    t.pixel += kBlockK;
    t.offset += kBlockK * s.out_channels;
  }
  __device__ Chunk chunk(const Fixed& f, const Step& t) const {
    return {t.offset + f.channel, f.valid && t.pixel < s.batch * s.out_height * s.out_width};
  }
  __device__ const T* base() const { return dy; }
};

// wgrad B, stored [k][n]: k = output pixel (n, oy, ox), column n = (ky, kx, ci)
//   -> x[n, oy*s - p + ky*d, ox*s - p + kx*d, ci].
template <class T>
struct WeightGradInputGather {
  static constexpr Major kMajor = Major::MN;
  BasicConv2dGeometry<int> s;
  const T* x;
  struct Fixed {
    int dy, dx, offset;  // ky*d, kx*d, (dy*W + dx)*C + ci
    bool valid;
  };
  struct Step {
    int pixel, iy0, ix0, offset;  // oy*s - p, ox*s - p, and the offset of x[n, iy0, ix0, 0]
  };
  __device__ Fixed fixed(int column) const {
    const bool valid = column < s.kernel_height * s.kernel_width * s.in_channels;
    const int c = clamp_index(valid, column), tap = c / s.in_channels;
    const int dy = tap / s.kernel_width * s.dilation, dx = tap % s.kernel_width * s.dilation;
    return {dy, dx, (dy * s.in_width + dx) * s.in_channels + c % s.in_channels, valid};
  }
  __device__ Step step(int k) const {
    const int plane = s.out_height * s.out_width;
    const int n = k / plane, iy0 = k % plane / s.out_width * s.stride - s.padding,
              ix0 = k % s.out_width * s.stride - s.padding;
    return {k, iy0, ix0, ((n * s.in_height + iy0) * s.in_width + ix0) * s.in_channels};
  }
  // Moves kBlockK pixels on: along the row, then wrapping rows (and images) as often as it crosses.
  __device__ void advance(Step& t) const {
    const int row_end = s.out_width * s.stride - s.padding, column_end = s.out_height * s.stride - s.padding;
    t.pixel += kBlockK;
    t.ix0 += kBlockK * s.stride;
    t.offset += kBlockK * s.stride * s.in_channels;
    while (t.ix0 >= row_end) {
      t.ix0 -= s.out_width * s.stride;
      t.iy0 += s.stride;
      t.offset += (s.stride * s.in_width - s.out_width * s.stride) * s.in_channels;
      if (t.iy0 >= column_end) {
        t.iy0 -= s.out_height * s.stride;
        t.offset += (s.in_height - s.out_height * s.stride) * s.in_width * s.in_channels;
      }
    }
  }
  __device__ Chunk chunk(const Fixed& f, const Step& t) const {
    const bool inside = f.valid && t.pixel < s.batch * s.out_height * s.out_width &&
                        in_range(t.iy0 + f.dy, s.in_height) && in_range(t.ix0 + f.dx, s.in_width);
    return {t.offset + f.offset, inside};
  }
  __device__ const T* base() const { return x; }
};

// ---- the pipeline's loader: one operand, one stage, 16-byte cp.async chunks ------------------
// The tile's contiguous extent is cut into chunks; thread `tid` always takes chunk column
// tid % kChunksPerRow, in rows tid / kChunksPerRow + p * kRowsPerPass (p < kPasses). A quarter warp
// thus writes 128 consecutive bytes of one shared row: no bank conflicts. In a Major::K tile the
// thread's rows are fixed M/N indices (their Fixed parts computed once) and its chunk column moves
// with K; in a Major::MN tile its column is a fixed M/N index and its rows move with K.
template <class T, int Rows, class Gather>
struct TileLoader {
  using Tile = SharedTile<T, Rows, Gather::kMajor>;
  static constexpr bool kMajorK = Gather::kMajor == Major::K;
  static constexpr int kChunksPerRow = (kMajorK ? kBlockK : Rows) / kChunk<T>;
  static constexpr int kRowsPerPass = kThreads / kChunksPerRow;
  static constexpr int kPasses = (kMajorK ? Rows : kBlockK) / kRowsPerPass;
  static_assert(kThreads % kChunksPerRow == 0 && kPasses >= 1, "tile and block do not divide");

  Gather gather;
  int first_row, chunk_column;
  typename Gather::Fixed fixed[kMajorK ? kPasses : 1];
  // Where the next load() reads along K: Major::K, the thread's one chunk column; Major::MN, the K
  // row of each pass.
  typename Gather::Step steps[kMajorK ? 1 : kPasses];

  // k0: the K offset of the first stage this thread loads.
  __device__ TileLoader(const Gather& g, int mn0, int k0, int tid)
      : gather(g), first_row(tid / kChunksPerRow), chunk_column(tid % kChunksPerRow) {
    if constexpr (kMajorK) {
      PANS_CONV_UNROLL
      for (int p = 0; p < kPasses; ++p) fixed[p] = gather.fixed(mn0 + first_row + p * kRowsPerPass);
      steps[0] = gather.step(k0 + chunk_column * kChunk<T>);
    } else {
      fixed[0] = gather.fixed(mn0 + chunk_column * kChunk<T>);
      PANS_CONV_UNROLL
      for (int p = 0; p < kPasses; ++p) steps[p] = gather.step(k0 + first_row + p * kRowsPerPass);
    }
  }

  // Where pass p's chunk lands in the tile.
  __device__ int chunk_offset(int p) const {
    return kMajorK ? Tile::offset(first_row + p * kRowsPerPass, chunk_column * kChunk<T>)
                   : Tile::offset(chunk_column * kChunk<T>, first_row + p * kRowsPerPass);
  }

  // Issues this thread's cp.async chunks of the next stage's tile (not committed) and moves on
  // kBlockK: stages load in K order, one call each.
  __device__ void load(T* tile) {
    PANS_CONV_UNROLL
    for (int p = 0; p < kPasses; ++p) {
      copy(tile + chunk_offset(p), gather.chunk(fixed[kMajorK ? p : 0], steps[kMajorK ? 0 : p]));
      if constexpr (!kMajorK) gather.advance(steps[p]);
    }
    if constexpr (kMajorK) gather.advance(steps[0]);
  }

  // float32: rounds this thread's chunks of a landed stage to tf32 in place (kernels/cuda/tf32.h),
  // once per tile element, so that the fragment reads take the bits as they are and Major::K tiles
  // can use ldmatrix: the same operands as rounding each fragment element, with half the roundings
  // (every element is read by two warps) and one 16-byte shared load and store per chunk.
  __device__ void round_to_tf32(T* tile) const {
    static_assert(std::is_same_v<T, float>, "only float32 tiles hold tf32 operands");
    PANS_CONV_UNROLL
    for (int p = 0; p < kPasses; ++p) {
      float4* chunk = reinterpret_cast<float4*>(tile + chunk_offset(p));
      float4 v = *chunk;
      v.x = __uint_as_float(tf32_rounded_bits(v.x));
      v.y = __uint_as_float(tf32_rounded_bits(v.y));
      v.z = __uint_as_float(tf32_rounded_bits(v.z));
      v.w = __uint_as_float(tf32_rounded_bits(v.w));
      *chunk = v;
    }
  }

  __device__ void copy(T* destination, Chunk chunk) const {
    // A zero chunk still names a valid global address (the operand's base); 0 bytes are read. The
    // offset is selected in 32 bits, then one 64-bit add forms the address.
    // A real chunk's offset is never negative, so the unsigned conversion widens it for free.
    ptx::cp_async_16(destination, gather.base() + unsigned(clamp_index(chunk.valid, chunk.offset)),
                     chunk.valid ? 16 : 0);
  }
};

// ---- warp-level products ---------------------------------------------------------------------

// Where this lane's fragment reads start in a stage's A and B tiles (element offsets, computed once
// per thread): every read of a stage is that start plus a compile-time offset (SharedTile::offset is
// linear), so the main loop spends no instructions on lane arithmetic.
//   tf32 m16n8k8: a0 = A[g][t], a1 = A[g+8][t], a2 = A[g][t+4], a3 = A[g+8][t+4]; b0 = B[t][g], b1 = B[t+4][g].
//   bf16 m16n8k16 via ldmatrix.x4: A from a Major::K tile with lane l giving row l%16 at column
//   8(l/16); from a Major::MN tile (.trans) lane 8j+r gives K row 8(j/2)+r at M column 8(j%2). B
//   for two n8 tiles at once: Major::K tile, lane 8j+r gives N row 8(j/2)+r at K column 8(j%2);
//   Major::MN (.trans), K row 8(j%2)+r at N column 8(j/2).
struct FragmentStart {
  int a, b;
};

template <class T, int BM, Major kMajorA, Major kMajorB>
__device__ __forceinline__ FragmentStart fragment_start(int warp_m0, int warp_n0, int lane) {
  using TileA = SharedTile<T, BM, kMajorA>;
  using TileB = SharedTile<T, kBlockN, kMajorB>;
  if constexpr (std::is_same_v<T, float>) {
    // Major::K tiles: ldmatrix.x4 row addresses (lane 8j+r: A row r + 8(j%2) at K 4(j/2); B row
    // r + 8(j/2) at K 4(j%2)); Major::MN tiles: this lane's element (g, t) of a scalar fragment.
    const int g = lane >> 2, t = lane & 3, j = lane >> 3, r = lane & 7;
    const int a =
        kMajorA == Major::K ? TileA::offset(warp_m0 + r + 8 * (j & 1), 4 * (j >> 1)) : TileA::offset(warp_m0 + g, t);
    const int b =
        kMajorB == Major::K ? TileB::offset(warp_n0 + r + 8 * (j >> 1), 4 * (j & 1)) : TileB::offset(warp_n0 + g, t);
    return {a, b};
  } else {
    const int j = lane >> 3, r = lane & 7;
    const int a = kMajorA == Major::K ? TileA::offset(warp_m0 + (lane & 15), 8 * (lane >> 4))
                                      : TileA::offset(warp_m0 + 8 * (j & 1), 8 * (j >> 1) + r);
    const int b = kMajorB == Major::K ? TileB::offset(warp_n0 + 8 * (j >> 1) + r, 8 * (j & 1))
                                      : TileB::offset(warp_n0 + 8 * (j >> 1), 8 * (j & 1) + r);
    return {a, b};
  }
}

// acc[mt][nt] += A[warp rows][kBlockK] * B[kBlockK][warp columns] for one stage; `a` and `b` point
// at this lane's fragment starts in the stage's tiles (fragment_start).
// kRoundA: float32 A tiles left unrounded in shared memory (wgrad, whose row sums need the exact
// values) are rounded as each fragment element is read.
template <class T, int BM, Major kMajorA, Major kMajorB, int MT, int NT, bool kRoundA>
__device__ __forceinline__ void multiply_stage(const T* a, const T* b, float (&acc)[MT][NT][4]) {
  using TileA = SharedTile<T, BM, kMajorA>;
  using TileB = SharedTile<T, kBlockN, kMajorB>;
  if constexpr (std::is_same_v<T, float>) {
    // The tiles hold tf32 values already (TileLoader::round_to_tf32). A Major::K tile's 8 x 4-float
    // blocks are ldmatrix's 8 x 8 b16 matrices: register j of lane (g, t) is float t of row g of
    // matrix j, which is the m16n8k8 fragment layout.
    PANS_CONV_UNROLL
    for (int kk = 0; kk < kBlockK; kk += 8) {
      std::uint32_t fa[MT][4], fb[NT][2];
      PANS_CONV_UNROLL
      for (int mt = 0; mt < MT; ++mt) {
        if constexpr (kMajorA == Major::K) {
          ptx::ldmatrix<4, false>(fa[mt], a + TileA::offset(mt * 16, kk));
        } else {
          static_assert(kMajorA == Major::MN || !kRoundA, "unrounded A tiles are Major::MN");
          const auto bits = [](float v) { return kRoundA ? tf32_rounded_bits(v) : __float_as_uint(v); };
          fa[mt][0] = bits(a[TileA::offset(mt * 16, kk)]);
          fa[mt][1] = bits(a[TileA::offset(mt * 16 + 8, kk)]);
          fa[mt][2] = bits(a[TileA::offset(mt * 16, kk + 4)]);
          fa[mt][3] = bits(a[TileA::offset(mt * 16 + 8, kk + 4)]);
        }
      }
      PANS_CONV_UNROLL
      for (int nt = 0; nt < NT; nt += 2) {
        if constexpr (kMajorB == Major::K) {
          std::uint32_t four[4];
          ptx::ldmatrix<4, false>(four, b + TileB::offset(nt * 8, kk));
          fb[nt][0] = four[0];
          fb[nt][1] = four[1];
          fb[nt + 1][0] = four[2];
          fb[nt + 1][1] = four[3];
        } else {
          PANS_CONV_UNROLL
          for (int half = 0; half < 2; ++half) {
            fb[nt + half][0] = __float_as_uint(b[TileB::offset((nt + half) * 8, kk)]);
            fb[nt + half][1] = __float_as_uint(b[TileB::offset((nt + half) * 8, kk + 4)]);
          }
        }
      }
      PANS_CONV_UNROLL
      for (int mt = 0; mt < MT; ++mt) {
        PANS_CONV_UNROLL
        for (int nt = 0; nt < NT; ++nt) ptx::mma_m16n8k8_tf32(acc[mt][nt], fa[mt], fb[nt], acc[mt][nt]);
      }
    }
  } else {
    static_assert(NT % 2 == 0, "ldmatrix.x4 loads B for two n8 tiles");
    PANS_CONV_UNROLL
    for (int kk = 0; kk < kBlockK; kk += 16) {
      std::uint32_t fa[MT][4], fb[NT][2];
      PANS_CONV_UNROLL
      for (int mt = 0; mt < MT; ++mt) {
        if constexpr (kMajorA == Major::K)
          ptx::ldmatrix<4, false>(fa[mt], a + TileA::offset(mt * 16, kk));
        else
          ptx::ldmatrix<4, true>(fa[mt], a + TileA::offset(mt * 16, kk));
      }
      PANS_CONV_UNROLL
      for (int nt = 0; nt < NT; nt += 2) {
        std::uint32_t four[4];
        if constexpr (kMajorB == Major::K)
          ptx::ldmatrix<4, false>(four, b + TileB::offset(nt * 8, kk));
        else
          ptx::ldmatrix<4, true>(four, b + TileB::offset(nt * 8, kk));
        fb[nt][0] = four[0];
        fb[nt][1] = four[1];
        fb[nt + 1][0] = four[2];
        fb[nt + 1][1] = four[3];
      }
      PANS_CONV_UNROLL
      for (int mt = 0; mt < MT; ++mt) {
        PANS_CONV_UNROLL
        for (int nt = 0; nt < NT; ++nt) ptx::mma_m16n8k16_bf16(acc[mt][nt], fa[mt], fb[nt], acc[mt][nt]);
      }
    }
  }
}

// What the kernel writes: C (+ bias[col]) to out[z * split_stride + row * n + col], and, when
// row_sums is set, the sums over this split's K of each A row (wgrad: the dbias partials) to
// row_sums[z * split_stride + row]. paired: every (row, even col) element of out is aligned for
// a two-element store (the launcher checks out, n and split_stride), so a thread's adjacent
// accumulator columns go out in one store.
template <class OutT>
struct Epilogue {
  OutT* out;
  const float* bias;
  float* row_sums;
  std::int64_t split_stride;
  bool paired;
};

__device__ __forceinline__ void store_pair_from_float(float* at, float a, float b) {
  *reinterpret_cast<float2*>(at) = make_float2(a, b);
}
__device__ __forceinline__ void store_pair_from_float(bf16* at, float a, float b) {
  const bf16 low = float_to_bf16(a), high = float_to_bf16(b);
  *reinterpret_cast<std::uint32_t*>(at) = std::uint32_t(low.bits) | std::uint32_t(high.bits) << 16;
}

struct GemmExtent {
  int m, n, k;
  int k_tiles_per_split;  // K steps of kBlockK per blockIdx.z
};

template <class T, int BM>
constexpr std::size_t shared_bytes_for(Major a, Major b) {
  return std::size_t(kStages) *
         std::size_t((a == Major::K ? BM * (kBlockK + kChunk<T>) : kBlockK * (BM + 8)) +
                     (b == Major::K ? kBlockN * (kBlockK + kChunk<T>) : kBlockK * (kBlockN + 8))) *
         sizeof(T);
}

// C = A B over a BM x 64 tile per block: grid (ceil(M/BM), ceil(N/64), splits of K). Blocks with
// consecutive blockIdx.x share one N tile (one slice of the weights), which stays in L2.
// Mapping: 128 threads; warp w computes rows (w%2)*BM/2 and columns (w/2)*32 of the tile; thread
// `tid` issues the cp.async chunks TileLoader assigns it. Shared (dynamic): kStages x (A tile + B
// tile) = 54 KiB (BM 64) or 81 KiB (BM 128) in float32, 30 / 45 KiB in bfloat16; the launcher
// opts in above 48 KiB (an H100 fits 2 float32 blocks of BM 128 per SM by shared memory; ~160
// registers per thread would allow 3).
// Bound: compute on the large layers: a stage brings (BM+64)*32 elements for 2*BM*64*32 flops,
// 21 flops/byte of L2 traffic at BM 128 in float32 (43 in bfloat16). Instruction issue caps the
// main loop below the tensor-core peak: bench/kernel_profile reads the cap from the SASS
// (docs/kernel_profile.md); unmeasured on a GPU.
// Precondition: see the file comment; blockDim = kThreads.
template <class T, class OutT, int BM, class GatherA, class GatherB>
__global__ void __launch_bounds__(kThreads)
    conv2d_implicit_gemm_mma(GemmExtent e, GatherA gather_a, GatherB gather_b, Epilogue<OutT> epilogue) {
  constexpr Major kMajorA = GatherA::kMajor, kMajorB = GatherB::kMajor;
  using TileA = SharedTile<T, BM, kMajorA>;
  using TileB = SharedTile<T, kBlockN, kMajorB>;
  constexpr int kStageElements = TileA::kElements + TileB::kElements;
  constexpr int MT = BM / 2 / 16, NT = kBlockN / 2 / 8;

  T* shared = pans::cuda::dynamic_shared<T>();
  const int tid = int(threadIdx.x), lane = tid & 31, warp = tid >> 5;
  const int block_m0 = int(blockIdx.x) * BM, block_n0 = int(blockIdx.y) * kBlockN;
  const int warp_m0 = (warp & 1) * (BM / 2), warp_n0 = (warp >> 1) * (kBlockN / 2);

  const int total_tiles = (e.k + kBlockK - 1) / kBlockK;
  const int first_tile = int(blockIdx.z) * e.k_tiles_per_split;
  const int tiles = min(e.k_tiles_per_split, total_tiles - first_tile);

  TileLoader<T, BM, GatherA> load_a(gather_a, block_m0, first_tile * kBlockK, tid);
  TileLoader<T, kBlockN, GatherB> load_b(gather_b, block_n0, first_tile * kBlockK, tid);

  const FragmentStart fragments = fragment_start<T, BM, kMajorA, kMajorB>(warp_m0, warp_n0, lane);
  float acc[MT][NT][4];
  PANS_CONV_UNROLL
  for (int mt = 0; mt < MT; ++mt) {
    PANS_CONV_UNROLL
    for (int nt = 0; nt < NT; ++nt) {
      PANS_CONV_UNROLL
      for (int i = 0; i < 4; ++i) acc[mt][nt][i] = 0.0f;
    }
  }
  // wgrad: thread tid < BM sums A's row tid (dy's channel) over K; only the first N tile does it.
  // The other passes have no row sums, and no such code in their main loops.
  constexpr bool kRowSums = std::is_same_v<GatherA, WeightGradOutputGather<T>>;
  const bool sum_rows = kRowSums && epilogue.row_sums != nullptr && blockIdx.y == 0 && tid < BM;
  float row_sum = 0.0f;

  // Prologue: stages 0 .. kStages-2 in flight. Every step commits one group (empty past the end),
  // so "all but the newest kStages-2 groups done" always means "stage i has landed".
  PANS_CONV_UNROLL
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < tiles) {
      T* stage = shared + s * kStageElements;
      load_a.load(stage);
      load_b.load(stage + TileA::kElements);
    }
    ptx::cp_async_commit_group();
  }
  // The buffers of stage i (read) and i + kStages - 1 (written), as element offsets rotating
  // through the kStages buffers: no % per step. The fragment reads' starts rotate with them, as
  // values carried from step to step (nvcc would otherwise rebuild them from the lane every step).
  constexpr int kLastBuffer = (kStages - 1) * kStageElements;
  int read = 0, write = kLastBuffer;
  int read_a = fragments.a, read_b = TileA::kElements + fragments.b;
  for (int i = 0; i < tiles; ++i) {
    ptx::cp_async_wait_group<kStages - 2>();
    if constexpr (std::is_same_v<T, float>) {
      // This thread's chunks of stage i have landed; it alone touches them until the barrier.
      if constexpr (!kRowSums) load_a.round_to_tf32(shared + read);
      load_b.round_to_tf32(shared + read + TileA::kElements);
    }
    // Stage i is visible to every thread, and every thread has finished multiplying stage i-1,
    // whose buffer the load below refills.
    __syncthreads();
    if (i + kStages - 1 < tiles) {
      load_a.load(shared + write);
      load_b.load(shared + write + TileA::kElements);
    }
    ptx::cp_async_commit_group();
    multiply_stage<T, BM, kMajorA, kMajorB, MT, NT, std::is_same_v<T, float> && kRowSums>(shared + read_a,
                                                                                          shared + read_b, acc);
    if constexpr (kRowSums) {
      if (sum_rows) {
        PANS_CONV_UNROLL
        for (int k = 0; k < kBlockK; ++k) row_sum += load_as_float(shared + read + TileA::offset(tid, k));
      }
    }
    const int next_read = read == kLastBuffer ? -kLastBuffer : kStageElements;
    read += next_read;
    read_a += next_read;
    read_b += next_read;
    write = write == kLastBuffer ? 0 : write + kStageElements;
  }
  ptx::cp_async_wait_group<0>();  // only empty groups remain; none may outlive the thread

  const std::int64_t split_offset = std::int64_t(blockIdx.z) * epilogue.split_stride;
  if (sum_rows && block_m0 + tid < e.m) epilogue.row_sums[split_offset + block_m0 + tid] = row_sum;
  const int g = lane >> 2, t = lane & 3;
  PANS_CONV_UNROLL
  for (int mt = 0; mt < MT; ++mt) {
    PANS_CONV_UNROLL
    for (int nt = 0; nt < NT; ++nt) {
      PANS_CONV_UNROLL
      for (int half = 0; half < 2; ++half) {
        const int row = block_m0 + warp_m0 + mt * 16 + g + 8 * half;
        const int col = block_n0 + warp_n0 + nt * 8 + 2 * t;
        if (row >= e.m) continue;
        OutT* out = epilogue.out + split_offset + std::int64_t(row) * e.n + col;
        const float* c = acc[mt][nt] + 2 * half;
        if (epilogue.paired && col + 1 < e.n) {
          // The thread's two adjacent columns in one store.
          const float bias0 = epilogue.bias != nullptr ? epilogue.bias[col] : 0.0f;
          const float bias1 = epilogue.bias != nullptr ? epilogue.bias[col + 1] : 0.0f;
          store_pair_from_float(out, c[0] + bias0, c[1] + bias1);
          continue;
        }
        PANS_CONV_UNROLL
        for (int j = 0; j < 2; ++j) {
          if (col + j >= e.n) continue;
          const float bias = epilogue.bias != nullptr ? epilogue.bias[col + j] : 0.0f;
          store_from_float(out + j, c[j] + bias);
        }
      }
    }
  }
}

}  // namespace pans::cuda::implicit_gemm
