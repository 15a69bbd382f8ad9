#include <cmath>
#include <string>

#include "bench/cross_check.h"
#include "bench/runners/op_runners.h"
#include "kernels/conv2d.h"
#include "kernels/cuda/conv2d_cudnn.h"

namespace pans::bench {
namespace {

// Tolerances of the native-vs-cuDNN cross-check, relative to the largest |output|: TF32 rounds
// each input to 11 significant bits (relative 2^-11 ~ 4.9e-4 per product; errors of K random-sign
// terms grow like the outputs themselves, so ~1e-3 of a typical output, a few times less of the
// largest one); bfloat16 inputs are exact in both, but each output is rounded to 8 bits
// (2^-9 ~ 2e-3 relative) and the native float32 dw is compared with cuDNN's bfloat16 dw. A wrong
// index or a missing tile is an O(1) error.
double conv_tolerance(DType dtype) { return dtype == DType::BF16 ? 2e-2 : 1e-2; }

std::string conv_choice_text(const cuda::Conv2dCudnnChoice& choice) {
  return choice.algo + " math=" + choice.math + " workspace=" + std::to_string(choice.workspace_bytes >> 20) + "MiB " +
         (choice.deterministic ? "deterministic" : "nondeterministic") + ", " + choice.search;
}

}  // namespace

void conv_runner(const Row& row, Data& data, Runner& r) {
  const Conv2dGeometry g = row.conv;
  const DType dt = row.dtype;
  const Conv2dParams params{g.stride, g.padding, g.dilation};
  const Shape xs{g.batch, g.in_height, g.in_width, g.in_channels},
      ys{g.batch, g.out_height, g.out_width, g.out_channels},
      ws{g.out_channels, g.kernel_height, g.kernel_width, g.in_channels};
  // Weights scaled so that outputs have about unit variance.
  const double bound = std::sqrt(3.0 / double(g.kernel_height * g.kernel_width * g.in_channels));
  cuda::Conv2dPass pass = cuda::Conv2dPass::Forward;
  if (row.pass == Pass::Forward) {
    Tensor x = data.uniform(xs, dt), w = data.uniform(ws, dt, -bound, bound);
    Tensor y = data.empty(ys, dt), y_library = data.empty(ys, dt);
    r.native = [=]() mutable { conv2d_forward(x, w, Tensor(), y, params); };
    r.library = [=]() mutable {
      cuda::conv2d_forward_cudnn(g, dt, x.raw_data(), w.raw_data(), nullptr, y_library.raw_data());
    };
    r.check = [=] { return compare({{y, y_library}}, conv_tolerance(dt)); };
  } else if (row.pass == Pass::BackwardInput) {
    pass = cuda::Conv2dPass::BackwardInput;
    Tensor dy = data.uniform(ys, dt), w = data.uniform(ws, dt, -bound, bound);
    Tensor dx = data.empty(xs, dt), dx_library = data.empty(xs, dt);
    r.native = [=]() mutable { conv2d_backward_input(dy, w, dx, params); };
    r.library = [=]() mutable {
      cuda::conv2d_backward_input_cudnn(g, dt, dy.raw_data(), w.raw_data(), dx_library.raw_data());
    };
    r.check = [=] { return compare({{dx, dx_library}}, conv_tolerance(dt)); };
  } else {
    pass = cuda::Conv2dPass::BackwardWeight;
    // pans keeps float32 weight gradients; cuDNN writes them in x's type (accumulating, beta = 1),
    // which is its fastest path: the baseline is the library kernel alone.
    Tensor dy = data.uniform(ys, dt), x = data.uniform(xs, dt);
    Tensor dw = data.zeros(ws, DType::F32), dw_library = data.zeros(ws, dt);
    r.native = [=]() mutable {
      Tensor no_bias;
      conv2d_backward_weight(dy, x, dw, no_bias, params);
    };
    r.library = [=]() mutable {
      cuda::conv2d_backward_weight_cudnn(g, dt, dy.raw_data(), x.raw_data(), dw_library.raw_data(), nullptr, dt);
    };
    // dw accumulates over the timed runs: start both from zero and run each once.
    r.check = [=]() mutable {
      dw.zero_();
      dw_library.zero_();
      Tensor no_bias;
      conv2d_backward_weight(dy, x, dw, no_bias, params);
      cuda::conv2d_backward_weight_cudnn(g, dt, dy.raw_data(), x.raw_data(), dw_library.raw_data(), nullptr, dt);
      return compare({{dw, dw_library}}, conv_tolerance(dt));
    };
  }
  // The algorithm search (a cudnnFind, timing cuDNN's candidates) happens here, before any timing.
  r.library_algo = conv_choice_text(cuda::conv2d_cudnn_choice(g, dt, pass));
}

}  // namespace pans::bench
