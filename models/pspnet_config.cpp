#include "models/pspnet_config.h"

namespace pans {

PspNetConfig PspNetConfig::resnet50_d8(ClassifierKind classifier) {
  PspNetConfig config;
  config.classifier = classifier;
  return config;
}

PspNetConfig PspNetConfig::small(ClassifierKind classifier) {
  PspNetConfig config;
  config.stem_channels = 8;
  config.widths = {8, 16, 32, 64};
  config.blocks = {1, 1, 1, 1};
  config.head_channels = 64;
  config.classifier = classifier;
  return config;
}

}  // namespace pans
