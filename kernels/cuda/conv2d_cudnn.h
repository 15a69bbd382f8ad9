// cuDNN as an alternative convolution (Conv2dAlgo::Cudnn, PANS_CONV=cudnn) and the benchmark's
// baseline. Host code calling the library: plain declarations, included by any build; defined in
// native CUDA builds with cuDNN (kernels/cuda/conv2d_cudnn.cpp), elsewhere by stubs that throw
// (kernels/cuda/cudnn_disabled.cpp). The emulator cannot run it.
//
// Layout and math, as the native kernels: NHWC activations (cuDNN's CUDNN_TENSOR_NHWC), weights
// {out, kh, kw, in} (cuDNN's KRSC: a filter descriptor in CUDNN_TENSOR_NHWC format), cross-
// correlation, fp32 accumulation. x, w, y, dy, dx have the storage type `dtype`, float32 or
// bfloat16 (cuDNN wants x, w and y of one type); bias is float32, like the native launchers'
// (kernels/cuda/conv2d.h: mixed precision keeps parameters in float32), and dw, dbias are
// `grad_dtype`: float32 (the native convention) or `dtype` (cuDNN's own, nothing added). float32
// runs with CUDNN_TENSOR_OP_MATH, which lets cuDNN use TF32 tensor cores on sm_80+ (PyTorch's default
// torch.backends.cudnn.allow_tf32 = True); NVIDIA_TF32_OVERRIDE=0 in the environment forbids TF32.
// bfloat16 with float32 parameters costs small extra passes cuDNN cannot fuse: the bias is rounded
// to a bfloat16 copy before cudnnAddTensor, and dw/dbias are computed into bfloat16 temporaries
// (beta = 0) that accumulate_bf16_into_float adds into the float32 gradients
// (kernels/cuda/cudnn_elementwise.h).
//
// Pointers are device pointers on the current device; calls are enqueued on the legacy default
// stream, like every pans kernel. Outputs: y (=) and dx (=); dw (+=) and dbias (+=) accumulate
// (cuDNN's beta = 1). bias and dbias may be null.
//
// Algorithms: chosen once per (geometry, dtype, pass, device) and cached. The search is the
// configuration's (kernels/configuration.h: Implementations::cudnn_search, default find):
//   Find       cudnnFind*Algorithm: cuDNN times its algorithms on buffers it allocates itself
//              (PyTorch's cudnn.benchmark = True); falls back to Heuristic if that fails;
//   Heuristic  cudnnGet*Algorithm_v7: cuDNN's ranked guess, nothing run.
// The first candidate that succeeded and needs at most the workspace limit wins
// (Implementations::cudnn_workspace_bytes, default 4 GiB). The workspace is a Tensor from the caching allocator, taken
// per call and released after enqueueing (stream-ordered, so reuse waits for the call).
#pragma once

#include <cstddef>
#include <string>

#include "kernels/shared/conv2d_geometry.h"
#include "tensor/dtype.h"

namespace pans::cuda {

enum class Conv2dPass { Forward, BackwardInput, BackwardWeight };

const char* conv2d_pass_name(Conv2dPass pass);  // "fwd", "dgrad", "wgrad"

// What cuDNN runs for one problem: the algorithm's name, its math type, workspace, determinism and
// how it was chosen. Choosing it (a Find, the first time) needs the device.
struct Conv2dCudnnChoice {
  std::string algo;  // e.g. "CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM"
  std::string math;  // "tensor_op" or "default" or "fma"
  std::size_t workspace_bytes = 0;
  bool deterministic = false;
  std::string search;  // "find (0.412 ms)" or "heuristic" or "heuristic (find failed: ...)"
};
Conv2dCudnnChoice conv2d_cudnn_choice(const Conv2dGeometry& g, DType dtype, Conv2dPass pass);

// y {N,Ho,Wo,Cout} (=) = conv(x {N,H,W,Cin}, w {Cout,KH,KW,Cin}) + bias {Cout} (float32).
void conv2d_forward_cudnn(const Conv2dGeometry& g, DType dtype, const void* x, const void* w, const float* bias,
                          void* y);
// dx {N,H,W,Cin} (=) from dy {N,Ho,Wo,Cout} and w.
void conv2d_backward_input_cudnn(const Conv2dGeometry& g, DType dtype, const void* dy, const void* w, void* dx);
// dw {Cout,KH,KW,Cin} (+=) and dbias {Cout} (+=), both of grad_dtype, from dy and the forward input x.
void conv2d_backward_weight_cudnn(const Conv2dGeometry& g, DType dtype, const void* dy, const void* x, void* dw,
                                  void* dbias, DType grad_dtype = DType::F32);

}  // namespace pans::cuda
