#include "layers/inplace_abn.h"

namespace pans {

InPlaceAbn::InPlaceAbn(const std::string& name, std::int64_t channels, IabnActivation activation,
                       const LayerOptions& options)
    : NormActivation(name, channels, activation, options),
      batch_var_(Tensor::empty({channels}, options.dtype, options.device)),
      reducer_(options.batch_statistics_reducer) {}

Tensor InPlaceAbn::forward(Tensor x, Mode mode) {
  mode_ = mode;
  if (mode == Mode::Train && reducer_ != nullptr)
    forward_train_synchronized(x);
  else if (mode == Mode::Train)
    iabn_forward_train(x, weight.value, bias.value, running_mean.value, running_var.value, batch_var_, params_);
  else
    iabn_forward_eval(x, weight.value, bias.value, running_mean.value, running_var.value, params_);
  output_ = x;
  return x;
}

void InPlaceAbn::backward(const Tensor& dz, Tensor& dx) {
  PANS_CHECK(output_.defined(), "InPlaceAbn ", weight.name, ": backward without a forward");
  const bool train = mode_ == Mode::Train;
  if (train && reducer_ != nullptr)
    backward_train_synchronized(dz, dx);
  else
    iabn_backward(output_, dz, weight.value, bias.value, train ? batch_var_ : running_var.value, dx, weight.grad,
                  bias.grad, train ? IabnMode::Train : IabnMode::Eval, params_);
  output_ = Tensor();
}

void InPlaceAbn::forward_train_synchronized(Tensor& x) {
  PANS_CHECK(x.ndim() == 4, "InPlaceAbn ", weight.name, ": ", x.describe("x"), " is not {N,H,W,C}");
  Tensor mean = Tensor::empty(batch_var_.shape(), batch_var_.dtype(), batch_var_.device());
  iabn_batch_statistics(x, mean, batch_var_);
  batch_count_ = reducer_->merge_statistics(mean, batch_var_, x.numel() / x.dim(3));
  iabn_normalize_inplace(x, weight.value, bias.value, mean, batch_var_, params_);
  iabn_update_running_statistics(running_mean.value, running_var.value, mean, batch_var_, batch_count_, params_);
}

void InPlaceAbn::backward_train_synchronized(const Tensor& dz, Tensor& dx) {
  const std::int64_t channels = batch_var_.dim(0);
  Tensor sums = Tensor::empty({2, channels}, batch_var_.dtype(), batch_var_.device());
  Tensor sum_dy = sums.narrow(0, 0, 1).reshape({channels});
  Tensor sum_xhat_dy = sums.narrow(0, 1, 1).reshape({channels});
  iabn_backward_reduce(output_, dz, weight.value, bias.value, sum_dy, sum_xhat_dy, weight.grad, bias.grad, params_);
  reducer_->sum_over_ranks(sums);
  iabn_backward_input_train(output_, dz, weight.value, bias.value, batch_var_, sum_dy, sum_xhat_dy, batch_count_, dx,
                            params_);
}

}  // namespace pans
