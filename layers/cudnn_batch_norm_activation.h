// CudnnBatchNormActivation: the normalisation layer computed by cuDNN's batch norm and a separate
// activation (kernels/iabn_cudnn.h), a NormActivation (layers/norm_activation.h) for CUDA layers
// when the configuration asks for cuDNN (normalization cudnn, PANS_BN=cudnn): PyTorch's
// BatchNorm2d + LeakyReLU pair, the cross-check and speed baseline of InPlaceAbn.
//
// Not in place: forward returns a new tensor z and keeps x for backward, as a standard BN +
// activation does (that is the memory InPlace-ABN saves). Eval mode has no backward (cuDNN has
// no inference backward). Local statistics only: it refuses options.batch_statistics_reducer, so
// data-parallel training needs the native layer.
#pragma once

#include <string>

#include "kernels/iabn_cudnn.h"
#include "layers/norm_activation.h"

namespace pans {

class CudnnBatchNormActivation final : public NormActivation {
 public:
  CudnnBatchNormActivation(const std::string& name, std::int64_t channels, IabnActivation activation,
                           const LayerOptions& options);

  Tensor forward(Tensor x, Mode mode) override;
  void backward(const Tensor& dz, Tensor& dx) override;

 private:
  Tensor input_;              // x, which cuDNN's backward reads; defined from a Train forward to its backward
  Tensor output_;             // z
  CudnnBatchNormSaved saved_;  // of the last Train forward
};

}  // namespace pans
