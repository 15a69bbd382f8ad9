// The network's normalisation layers: batch normalisation with gamma_hat = |w| + eps, followed by
// leaky ReLU 0.01 or the identity (InPlace-ABN's definition, kernels/iabn.h), behind one base
// class with two implementations, built by make_norm_activation from LayerOptions::normalization:
//   InPlaceAbn                (layers/inplace_abn.h)  pans' kernels, in place; local or synchronized
//                             statistics; cpu and CUDA;
//   CudnnBatchNormActivation  (layers/cudnn_batch_norm_activation.h)  cuDNN's batch norm and a
//                             separate activation, not in place; CUDA only, local statistics.
// Both own the same tensors under the same names, so a checkpoint of one loads into the other:
// parameters "<name>.weight" (init 1) and "<name>.bias" (init 0); buffers "<name>.running_mean" (0)
// and "<name>.running_var" (1); eps 1e-5, momentum 0.1 (docs/method.md#inplace-abn). No num_batches_tracked:
// only a momentum of None (a cumulative average) would read it.
//
// forward:  z; Train mode also updates the running statistics. Training needs at least 2 values
//           per channel (N*H*W >= 2).
// backward: dw (+=), db (+=); dx (=) into the caller's dx, which may be dz itself (then dz is
//           consumed). Uses the mode of the last forward.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kernels/iabn.h"
#include "layers/parameter.h"

namespace pans {

class NormActivation {
 public:
  virtual ~NormActivation() = default;
  NormActivation(const NormActivation&) = delete;
  NormActivation& operator=(const NormActivation&) = delete;

  virtual Tensor forward(Tensor x, Mode mode) = 0;
  virtual void backward(const Tensor& dz, Tensor& dx) = 0;

  void append_parameters(std::vector<Parameter>& out) const;
  void append_buffers(std::vector<Buffer>& out) const;

  Parameter weight;
  Parameter bias;
  Buffer running_mean;
  Buffer running_var;

 protected:
  NormActivation(const std::string& name, std::int64_t channels, IabnActivation activation,
                 const LayerOptions& options);

  IabnParams params_;
  Mode mode_ = Mode::Train;  // of the last forward
};

// InPlaceAbn for cpu layers and for options.normalization native; CudnnBatchNormActivation for
// CUDA layers with options.normalization cudnn (cpu layers have one implementation).
std::unique_ptr<NormActivation> make_norm_activation(const std::string& name, std::int64_t channels,
                                                     IabnActivation activation, const LayerOptions& options);

}  // namespace pans
