// The argument checks InPlace-ABN's two implementations share (kernels/iabn.cpp, the native kernels;
// kernels/iabn_cudnn.cpp, cuDNN): one set of rules and messages for both.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <utility>

#include "kernels/cpu/iabn.h"
#include "kernels/iabn.h"
#include "kernels/op_check.h"

namespace pans {

// The parameters' ranges: a positive leaky ReLU slope (backward inverts it), eps > 0, momentum in [0, 1].
void check_iabn_params(const OpCheck& check, const IabnParams& params);

// Checks the activation {N,H,W,C} and every per-channel tensor ({C}), and views the activation as
// rows of channels.
cpu::IabnGeometry iabn_geometry(const OpCheck& check, const char* name, const Tensor& activation,
                                std::initializer_list<std::pair<const char*, const Tensor*>> per_channel,
                                const IabnParams& params);

// Training needs count >= 2 values per channel: the running variance is unbiased.
void require_iabn_training_count(const OpCheck& check, std::int64_t count);

}  // namespace pans
