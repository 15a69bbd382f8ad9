// The poly learning-rate schedule of DeepLab/PSPNet, stepped every iteration:
//   lr(it) = base_lr * (1 - it / max_iterations)^power,   0 <= it <= max_iterations,
// computed in double; power 0.9 in PAnS. lr(0) = base_lr and lr(max_iterations) = 0.
#pragma once

#include <cmath>
#include <cstdint>

#include "tensor/error.h"

namespace pans {

class PolyLearningRate {
 public:
  PolyLearningRate(double base_lr, std::int64_t max_iterations, double power = 0.9)
      : base_lr_(base_lr), max_iterations_(max_iterations), power_(power) {
    PANS_CHECK(base_lr >= 0 && max_iterations > 0 && power > 0, "PolyLearningRate: invalid base_lr ", base_lr,
               ", max_iterations ", max_iterations, ", power ", power);
  }

  double at(std::int64_t iteration) const {
    PANS_CHECK(iteration >= 0 && iteration <= max_iterations_, "PolyLearningRate: iteration ", iteration,
               " is outside [0, ", max_iterations_, "]");
    return base_lr_ * std::pow(1.0 - double(iteration) / double(max_iterations_), power_);
  }

  double base_lr() const { return base_lr_; }
  std::int64_t max_iterations() const { return max_iterations_; }
  double power() const { return power_; }

 private:
  double base_lr_;
  std::int64_t max_iterations_;
  double power_;
};

}  // namespace pans
