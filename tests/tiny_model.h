// The PAnS network's structure at toy widths, shared by the model, dist and two-rank tests: every
// kind of block (a projection with stride 2, projections with dilation 2 and 4, an identity
// shortcut in layer2), both classifiers' branches, block outputs of 8, 8, 12 and 16 channels,
// 3 classes. Each test sets what it varies (classifier, dropout) on top.
#pragma once

#include "models/pspnet_config.h"

namespace pans::test {

inline PspNetConfig tiny_pspnet_config() {
  PspNetConfig config;
  config.stem_channels = 4;
  config.widths = {2, 2, 3, 4};
  config.blocks = {1, 2, 1, 1};
  config.head_channels = 4;
  config.classes = 3;
  return config;
}

}  // namespace pans::test
