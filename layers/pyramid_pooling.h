// The pyramid pooling of PSPNet (docs/method.md#psp-head-and-deep-supervision): for each bin count
// b in (1, 2, 3, 6) a branch adaptive-avg-pool to b x b -> 1x1 conv (no bias) -> iABN (leaky) ->
// bilinear upsample (align_corners=False) back to the input size; the input and the branches are
// concatenated over channels, [x, p1, p2, p3, p6].
//
// Names as PAnS's nn.Sequential: "<name>.<i>.1.weight" (the conv), "<name>.<i>.2.*" (the iABN).
//
// Buffers: a branch keeps only its tiny b x b tensors (the conv's pooled input, the iABN output)
// and the input's shape; the upsampled branch outputs are temporaries that die in the concat. The
// concat output is a new tensor (the 3x3 conv after it saves it as its input).
// forward:  the concat (=), a new tensor {N,H,W,C + branches*out}.
// backward: dx (=), a new tensor: the concat's slice of the gradient plus every branch's.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/conv2d.h"
#include "layers/norm_activation.h"

namespace pans {

class PyramidPoolingBranch {
 public:
  PyramidPoolingBranch(const std::string& name, int bins, std::int64_t in_channels, std::int64_t out_channels,
                       const LayerOptions& options);

  Tensor forward(const Tensor& x, Mode mode);  // {N,H,W,out}
  Tensor backward(const Tensor& dy);           // dx {N,H,W,in} (=)

  void append_parameters(std::vector<Parameter>& out) const;
  void append_buffers(std::vector<Buffer>& out) const;

 private:
  int bins_;
  Conv2d conv_;
  std::unique_ptr<NormActivation> bn_;
  Shape input_shape_;
};

class PyramidPooling {
 public:
  PyramidPooling(const std::string& name, const std::vector<int>& bins, std::int64_t in_channels,
                 std::int64_t branch_channels, const LayerOptions& options);

  Tensor forward(const Tensor& x, Mode mode);
  Tensor backward(const Tensor& dconcat);

  std::int64_t out_channels() const { return in_channels_ + std::int64_t(branches_.size()) * branch_channels_; }
  void append_parameters(std::vector<Parameter>& out) const;
  void append_buffers(std::vector<Buffer>& out) const;

 private:
  std::int64_t in_channels_, branch_channels_;
  std::vector<PyramidPoolingBranch> branches_;
};

}  // namespace pans
