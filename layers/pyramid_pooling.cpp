#include "layers/pyramid_pooling.h"

#include "kernels/concat.h"
#include "kernels/pool.h"
#include "kernels/resize.h"
#include "layers/gradient_sum.h"

namespace pans {

PyramidPoolingBranch::PyramidPoolingBranch(const std::string& name, int bins, std::int64_t in_channels,
                                           std::int64_t out_channels, const LayerOptions& options)
    : bins_(bins),
      conv_(child_name(name, "1"), {in_channels, out_channels, 1, {}, false}, options),
      bn_(make_norm_activation(child_name(name, "2"), out_channels, IabnActivation::LeakyRelu, options)) {
  PANS_CHECK(bins > 0, "PyramidPoolingBranch ", name, ": bins must be > 0, got ", bins);
}

Tensor PyramidPoolingBranch::forward(const Tensor& x, Mode mode) {
  input_shape_ = x.shape();
  const Tensor pooled = adaptive_avg_pool2d_forward(x, bins_, bins_);
  const Tensor z = bn_->forward(conv_.forward(pooled), mode);
  return resize_bilinear_forward(z, x.dim(1), x.dim(2));
}

Tensor PyramidPoolingBranch::backward(const Tensor& dy) {
  Tensor dz = Tensor::empty({dy.dim(0), bins_, bins_, dy.dim(3)}, dy.dtype(), dy.device());
  resize_bilinear_backward(dy, dz);
  bn_->backward(dz, dz);
  const Tensor dpooled = conv_.backward(dz);
  Tensor dx = Tensor::empty(input_shape_, dy.dtype(), dy.device());
  adaptive_avg_pool2d_backward(dpooled, dx);
  return dx;
}

void PyramidPoolingBranch::append_parameters(std::vector<Parameter>& out) const {
  conv_.append_parameters(out);
  bn_->append_parameters(out);
}

void PyramidPoolingBranch::append_buffers(std::vector<Buffer>& out) const { bn_->append_buffers(out); }

PyramidPooling::PyramidPooling(const std::string& name, const std::vector<int>& bins, std::int64_t in_channels,
                               std::int64_t branch_channels, const LayerOptions& options)
    : in_channels_(in_channels), branch_channels_(branch_channels) {
  for (std::size_t i = 0; i < bins.size(); ++i)
    branches_.emplace_back(child_name(name, std::to_string(i)), bins[i], in_channels, branch_channels, options);
}

Tensor PyramidPooling::forward(const Tensor& x, Mode mode) {
  std::vector<Tensor> parts = {x};
  for (PyramidPoolingBranch& branch : branches_) parts.push_back(branch.forward(x, mode));
  return concat_channels(parts);
}

Tensor PyramidPooling::backward(const Tensor& dconcat) {
  const Shape& shape = dconcat.shape();
  std::vector<Tensor> dparts = {
      Tensor::empty({shape[0], shape[1], shape[2], in_channels_}, dconcat.dtype(), dconcat.device())};
  for (std::size_t i = 0; i < branches_.size(); ++i)
    dparts.push_back(
        Tensor::empty({shape[0], shape[1], shape[2], branch_channels_}, dconcat.dtype(), dconcat.device()));
  split_channels(dconcat, dparts);
  Tensor dx = dparts[0];
  for (std::size_t i = 0; i < branches_.size(); ++i) add_into(dx, branches_[i].backward(dparts[i + 1]));
  return dx;
}

void PyramidPooling::append_parameters(std::vector<Parameter>& out) const {
  for (const PyramidPoolingBranch& branch : branches_) branch.append_parameters(out);
}

void PyramidPooling::append_buffers(std::vector<Buffer>& out) const {
  for (const PyramidPoolingBranch& branch : branches_) branch.append_buffers(out);
}

}  // namespace pans
