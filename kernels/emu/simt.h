// The SIMT emulator's device-side face: force-included (g++ -include) before the real CUDA headers
// into every translation unit that compiles a kernels/cuda/*.cu file for the emulator. It defines
// the CUDA keywords for a host compiler, the built-in variables, and the intrinsics pans' kernels
// use, each with CUDA's semantics on top of kernels/emu/scheduler.h. Kernel files stay plain CUDA.
#pragma once

#define PANS_SIMT_EMU_ACTIVE 1

// Keywords first: crt/host_defines.h only defines the ones still undefined.
#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __constant__ static
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/emu/builtins.h"
#include "kernels/emu/scheduler.h"

constexpr int warpSize = 32;

// ---- barriers -------------------------------------------------------------------------------
inline void __syncthreads(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  pans::emu::block_barrier(file, line);
}
inline void __syncwarp(unsigned mask = 0xffffffffu, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  pans::emu::warp_collective(pans::emu::WarpOp::Sync, mask, 0, 0, 32, file, line);
}
// One host thread runs every emulated thread, so memory is always coherent.
inline void __threadfence() {}
inline void __threadfence_block() {}

// ---- warp shuffles and votes: values of up to 8 bytes travel as their bits ------------------
namespace pans::emu {
template <class T>
std::uint64_t to_bits(T value) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffled values are at most 8 bytes");
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  return bits;
}
template <class T>
T from_bits(std::uint64_t bits) {
  T value;
  std::memcpy(&value, &bits, sizeof(T));
  return value;
}
// Keeps an argument out of template deduction, so atomicAdd(&unsigned_counter, 1) converts the 1
// as CUDA's overloads do.
template <class T>
struct SameType {
  using type = T;
};
template <class T>
using Same = typename SameType<T>::type;
template <class T>
T shuffle(WarpOp op, unsigned mask, T value, int argument, int width, const char* file, int line) {
  return from_bits<T>(warp_collective(op, mask, to_bits(value), argument, width, file, line));
}
}  // namespace pans::emu

template <class T>
T __shfl_sync(unsigned mask, T value, int source_lane, int width = 32, const char* file = __builtin_FILE(),
              int line = __builtin_LINE()) {
  return pans::emu::shuffle(pans::emu::WarpOp::ShuffleIndex, mask, value, source_lane, width, file, line);
}
template <class T>
T __shfl_up_sync(unsigned mask, T value, unsigned delta, int width = 32, const char* file = __builtin_FILE(),
                 int line = __builtin_LINE()) {
  return pans::emu::shuffle(pans::emu::WarpOp::ShuffleUp, mask, value, int(delta), width, file, line);
}
template <class T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = 32, const char* file = __builtin_FILE(),
                   int line = __builtin_LINE()) {
  return pans::emu::shuffle(pans::emu::WarpOp::ShuffleDown, mask, value, int(delta), width, file, line);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T value, int lane_mask, int width = 32, const char* file = __builtin_FILE(),
                  int line = __builtin_LINE()) {
  return pans::emu::shuffle(pans::emu::WarpOp::ShuffleXor, mask, value, lane_mask, width, file, line);
}
inline unsigned __ballot_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(),
                              int line = __builtin_LINE()) {
  return unsigned(pans::emu::warp_collective(pans::emu::WarpOp::Ballot, mask, predicate != 0, 0, 32, file, line));
}
inline int __any_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return int(pans::emu::warp_collective(pans::emu::WarpOp::Any, mask, predicate != 0, 0, 32, file, line));
}
inline int __all_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return int(pans::emu::warp_collective(pans::emu::WarpOp::All, mask, predicate != 0, 0, 32, file, line));
}

// ---- atomics: plain read-modify-write, since emulated threads never preempt each other -------
template <class T>
T atomicAdd(T* address, pans::emu::Same<T> value) {
  const T old = *address;
  *address = old + value;
  return old;
}
template <class T>
T atomicSub(T* address, pans::emu::Same<T> value) {
  const T old = *address;
  *address = old - value;
  return old;
}
template <class T>
T atomicMax(T* address, pans::emu::Same<T> value) {
  const T old = *address;
  *address = old < value ? value : old;
  return old;
}
template <class T>
T atomicMin(T* address, pans::emu::Same<T> value) {
  const T old = *address;
  *address = value < old ? value : old;
  return old;
}
template <class T>
T atomicExch(T* address, pans::emu::Same<T> value) {
  const T old = *address;
  *address = value;
  return old;
}
template <class T>
T atomicCAS(T* address, pans::emu::Same<T> compare, pans::emu::Same<T> value) {
  const T old = *address;
  if (old == compare) *address = value;
  return old;
}

// ---- math intrinsics: the exact host functions (the GPU's fast versions carry documented error
// bounds, which the parity tests' tolerances cover) ---------------------------------------------
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
// Rounded operations nvcc never contracts into an FMA (the build passes -ffp-contract=off to g++, so
// host code does not contract either).
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline unsigned __float_as_uint(float x) { return pans::emu::from_bits<unsigned>(pans::emu::to_bits(x)); }
inline float __uint_as_float(unsigned x) { return pans::emu::from_bits<float>(pans::emu::to_bits(x)); }
inline int __float_as_int(float x) { return pans::emu::from_bits<int>(pans::emu::to_bits(x)); }
inline float __int_as_float(int x) { return pans::emu::from_bits<float>(pans::emu::to_bits(x)); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(unsigned(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
template <class T>
T __ldg(const T* address) {
  return *address;
}
// CUDA's integer min/max overloads of device code.
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a < b ? b : a; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a < b ? b : a; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a < b ? b : a; }
inline long min(long a, long b) { return a < b ? a : b; }
inline long max(long a, long b) { return a < b ? b : a; }
