#include "kernels/concat.h"

#include <numeric>
#include <string>

#include "kernels/cpu/concat.h"
#include "kernels/cuda/concat.h"
#include "kernels/cuda_dispatch.h"
#include "kernels/op_check.h"

namespace pans {
namespace {

std::string channel_list(const std::vector<std::int64_t>& channels) {
  std::string list;
  for (std::size_t i = 0; i < channels.size(); ++i) list += (i ? "," : "") + std::to_string(channels[i]);
  return "[" + list + "]";
}

// OpCheck names a fixed list of tensors, so each part is checked against the whole, which carries
// the N, H, W, device and dtype that every part must share. Returns the parts' channel counts.
std::vector<std::int64_t> checked_channels(const OpCheck& whole_check, const char* parts_name,
                                           const std::vector<Tensor>& parts, const char* whole_name,
                                           const Tensor& whole) {
  whole_check.same_device_float_contiguous();
  whole_check.rank(whole_name, whole, 4);
  whole_check.require(!parts.empty(), "needs at least one tensor in ", parts_name);
  std::vector<std::int64_t> channels;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string part_name = std::string(parts_name) + "[" + std::to_string(i) + "]";
    const OpCheck check(whole_check.op(), {{part_name.c_str(), &parts[i]}, {whole_name, &whole}});
    check.same_device_float_contiguous();
    check.rank(part_name.c_str(), parts[i], 4);
    check.require(parts[i].dim(0) == whole.dim(0) && parts[i].dim(1) == whole.dim(1) && parts[i].dim(2) == whole.dim(2),
                  part_name, " must have the N, H, W of ", whole_name, ", [", whole.dim(0), ",", whole.dim(1), ",",
                  whole.dim(2), "]");
    channels.push_back(parts[i].dim(3));
  }
  const std::int64_t total = std::accumulate(channels.begin(), channels.end(), std::int64_t(0));
  whole_check.require(whole.dim(3) == total, whole_name, " must have ", total, " channels, the sum of the ", parts_name,
                      " channels ", channel_list(channels));
  return channels;
}

}  // namespace

void concat_channels(const std::vector<Tensor>& inputs, Tensor& out) {
  const OpCheck check("concat_channels", {{"out", &out}});
  const std::vector<std::int64_t> channels = checked_channels(check, "inputs", inputs, "out", out);
  if (ran_on_cuda_with_bf16(check, out, [&](auto storage) {
        using S = decltype(storage);
        std::vector<const S*> parts;
        for (const Tensor& input : inputs) parts.push_back(input.data<S>());
        cuda::concat_channels(out.dim(0) * out.dim(1) * out.dim(2), channels, parts, out.data<S>());
      }))
    return;
  dispatch_floating(check, out.dtype(), [&](auto zero) {
    using T = decltype(zero);
    std::vector<const T*> parts;
    for (const Tensor& input : inputs) parts.push_back(input.data<T>());
    cpu::concat_channels<T>(out.dim(0) * out.dim(1) * out.dim(2), channels, parts, out.data<T>());
  });
}

Tensor concat_channels(const std::vector<Tensor>& inputs) {
  PANS_CHECK(!inputs.empty() && inputs[0].ndim() == 4,
             "concat_channels: needs at least one input, the first with 4 dimensions",
             inputs.empty() ? std::string() : ", got " + inputs[0].describe("inputs[0]"));
  // A misshapen input adds no channels here; concat_channels(inputs, out) then rejects it by name.
  std::int64_t channels = 0;
  for (const Tensor& input : inputs) channels += input.ndim() == 4 ? input.dim(3) : 0;
  Tensor out = Tensor::empty({inputs[0].dim(0), inputs[0].dim(1), inputs[0].dim(2), channels}, inputs[0].dtype(),
                             inputs[0].device());
  concat_channels(inputs, out);
  return out;
}

void split_channels(const Tensor& dout, std::vector<Tensor>& dinputs) {
  const OpCheck check("split_channels", {{"dout", &dout}});
  const std::vector<std::int64_t> channels = checked_channels(check, "dinputs", dinputs, "dout", dout);
  if (ran_on_cuda_with_bf16(check, dout, [&](auto storage) {
        using S = decltype(storage);
        std::vector<S*> parts;
        for (Tensor& dinput : dinputs) parts.push_back(dinput.data<S>());
        cuda::split_channels(dout.dim(0) * dout.dim(1) * dout.dim(2), channels, dout.data<S>(), parts);
      }))
    return;
  dispatch_floating(check, dout.dtype(), [&](auto zero) {
    using T = decltype(zero);
    std::vector<T*> parts;
    for (Tensor& dinput : dinputs) parts.push_back(dinput.data<T>());
    cpu::split_channels<T>(dout.dim(0) * dout.dim(1) * dout.dim(2), channels, dout.data<T>(), parts);
  });
}

}  // namespace pans
