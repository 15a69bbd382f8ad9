#include "data/scenes/scene_config.h"

#include "tensor/error.h"

namespace pans::scenes {

int images_in(const SceneConfig& config, Split split) {
  switch (split) {
    case Split::Training:
      return config.training_images;
    case Split::Validation:
      return config.validation_images;
    case Split::Test:
      return config.test_images;
  }
  PANS_FAIL("images_in: unknown split ", int(split));
}

int scene_town(Split split, std::int64_t index) {
  switch (split) {
    case Split::Training:
      return 1 + int(index % 3);
    case Split::Validation:
      return 4;
    case Split::Test:
      return 5 + int(index % 2);
  }
  PANS_FAIL("scene_town: unknown split ", int(split));
}

std::string town_folder(int town) { return "t" + std::to_string(town); }

}  // namespace pans::scenes
