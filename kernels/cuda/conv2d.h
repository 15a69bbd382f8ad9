// CUDA convolution: the algorithms and their host launchers (raw device pointers, geometry from
// kernels/cpu/conv2d.h). kernels/conv2d.cpp chooses the algorithm per call and logs the choice:
//   ImplicitGemmTensorCore  hand-written implicit GEMM on mma.sync: tf32 for float32 tensors, bf16 for
//                           bfloat16 tensors, fp32 accumulation (when the channel counts fit its tiles);
//   Simt                    hand-written plain fp32 kernel for what tensor cores do not fit (the
//                           3-channel 7x7 stem, odd channel counts);
//   Cudnn                   the library, as a cross-check and speed baseline, only when asked for
//                           (PANS_CONV=cudnn); never substituted silently.
#pragma once

#include "kernels/cpu/conv2d.h"

namespace pans {

enum class Conv2dAlgo { ImplicitGemmTensorCore, Simt, Cudnn };

const char* conv2d_algo_name(Conv2dAlgo algo);

}  // namespace pans
