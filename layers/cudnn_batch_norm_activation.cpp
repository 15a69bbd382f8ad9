#include "layers/cudnn_batch_norm_activation.h"

namespace pans {

CudnnBatchNormActivation::CudnnBatchNormActivation(const std::string& name, std::int64_t channels,
                                                   IabnActivation activation, const LayerOptions& options)
    : NormActivation(name, channels, activation, options) {
  PANS_CHECK(options.device.is_cuda(), "CudnnBatchNormActivation ", name, ": cuDNN runs on CUDA layers only, not ",
             options.device.str());
  PANS_CHECK(options.batch_statistics_reducer == nullptr, "CudnnBatchNormActivation ", name,
             ": normalization cudnn (PANS_BN=cudnn) takes the statistics of this rank's batch only; synchronized "
             "InPlace-ABN (data parallel training) needs normalization native");
}

Tensor CudnnBatchNormActivation::forward(Tensor x, Mode mode) {
  mode_ = mode;
  Tensor z = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (mode == Mode::Train) {
    iabn_cudnn_forward_train(x, z, weight.value, bias.value, running_mean.value, running_var.value, saved_, params_);
    input_ = x;
  } else {
    iabn_cudnn_forward_eval(x, z, weight.value, bias.value, running_mean.value, running_var.value, params_);
  }
  output_ = z;
  return z;
}

void CudnnBatchNormActivation::backward(const Tensor& dz, Tensor& dx) {
  PANS_CHECK(output_.defined(), "CudnnBatchNormActivation ", weight.name, ": backward without a forward");
  PANS_CHECK(mode_ == Mode::Train, "CudnnBatchNormActivation ", weight.name,
             ": no backward after an Eval forward (cuDNN has no inference backward)");
  iabn_cudnn_backward_train(input_, output_, dz, dx, weight.value, bias.value, weight.grad, bias.grad, saved_,
                            params_);
  input_ = Tensor();
  output_ = Tensor();
  saved_ = CudnnBatchNormSaved();
}

}  // namespace pans
