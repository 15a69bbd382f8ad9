// CUDA convolution: the algorithms and their host launchers (raw device pointers, geometry from
// kernels/shared/conv2d_geometry.h). kernels/conv2d.cpp chooses the algorithm per call and logs
// the choice:
//   ImplicitGemmTensorCore  hand-written implicit GEMM on mma.sync: tf32 for float32 tensors, bf16 for
//                           bfloat16 tensors, fp32 accumulation (when the channel counts fit its tiles);
//   Simt                    hand-written plain fp32 kernel for what tensor cores do not fit (the
//                           3-channel 7x7 stem, odd channel counts);
//   Cudnn                   the library, as a cross-check and speed baseline, only when asked for
//                           (PANS_CONV=cudnn); never substituted silently.
//
// The native launchers below run ImplicitGemmTensorCore and Simt (Cudnn lives in its own files).
// Activations and weights have the storage type T = float or pans::bf16 (instantiated for both);
// bias, dw and dbias are float32 in both cases (mixed precision keeps parameters in float32).
// Layouts are the public API's (kernels/conv2d.h): NHWC activations, {Cout,KH,KW,Cin} weights.
// All launches go to the legacy default stream. No float atomics: the same call on the same GPU
// gives the same bits, and the automatic tiling (hence the summation order) depends only on the
// geometry, never on the GPU model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "kernels/shared/conv2d_geometry.h"

namespace pans {

enum class Conv2dAlgo { ImplicitGemmTensorCore, Simt, Cudnn };

const char* conv2d_algo_name(Conv2dAlgo algo);

}  // namespace pans

namespace pans::cuda {

// Why ImplicitGemmTensorCore cannot run this geometry with storage elements of `element_bytes`
// (4 float32, 2 bfloat16) on these device pointers, or nullptr when it can: it needs Cin and Cout
// multiples of one 16-byte chunk (4 floats, 8 bfloat16), nonzero, and 16-byte aligned `pointers`
// (the tensors it reads with cp.async). Host logic, defined in kernels/conv2d.cpp: available in
// every build. (Both algorithms also need pixel counts and GEMM extents below 2^31; the launchers
// check that and throw.)
const char* conv2d_tensor_core_misfit(const Conv2dGeometry& g, std::size_t element_bytes,
                                      std::initializer_list<const void*> pointers);

// How a launch is cut up; zeros choose automatically (the dispatch always passes zeros). Tests
// and benchmarks set them to reach every tile shape and split count.
//   block_m  ImplicitGemmTensorCore: rows of the block tile, 64 or 128 (automatic: 128 when the
//            GEMM has enough 128-row tiles to fill the GPU, else 64).
//   splits   backward weight only: how many parts the reduction over the N*Ho*Wo output pixels is
//            cut into, each writing partial sums that a second pass adds in a fixed order
//            (automatic: enough blocks to fill an H100 for ImplicitGemmTensorCore; 4096 pixels per
//            part for Simt). Clamped to the number of K steps or pixels.
struct Conv2dTiling {
  int block_m = 0;
  int splits = 0;
};

// y {N,Ho,Wo,Cout} (=) = conv(x {N,H,W,Cin}, w {Cout,KH,KW,Cin}) + bias {Cout} (bias may be null).
template <class T>
void conv2d_forward(Conv2dAlgo algo, const Conv2dGeometry& g, const T* x, const T* w, const float* bias, T* y,
                    Conv2dTiling tiling = {});

// dx {N,H,W,Cin} (=) from dy {N,Ho,Wo,Cout} and w.
template <class T>
void conv2d_backward_input(Conv2dAlgo algo, const Conv2dGeometry& g, const T* dy, const T* w, T* dx,
                           Conv2dTiling tiling = {});

// Floats of device scratch conv2d_backward_weight needs for these arguments.
std::int64_t conv2d_backward_weight_scratch_floats(Conv2dAlgo algo, const Conv2dGeometry& g, Conv2dTiling tiling = {});

// dw {Cout,KH,KW,Cin} (+=) and, if dbias is not null, dbias {Cout} (+=) from dy and x; `scratch`
// holds conv2d_backward_weight_scratch_floats(algo, g, tiling) floats.
template <class T>
void conv2d_backward_weight(Conv2dAlgo algo, const Conv2dGeometry& g, const T* dy, const T* x, float* dw, float* dbias,
                            float* scratch, Conv2dTiling tiling = {});

}  // namespace pans::cuda
