// The StreetHazards dataset in its released layout (docs/data_format.md#layout):
//   <root>/train/images/training/<town>/*.png     <root>/train/annotations/training/<town>/*.png
//   <root>/train/images/validation/<town>/*.png   <root>/train/annotations/validation/<town>/*.png
//   <root>/test/images/test/<town>/*.png          <root>/test/annotations/test/<town>/*.png
// Every image has a single-channel label PNG of the same name; town folder names are whatever is
// there. The embedded scene generator writes the same layout, so this reader serves both.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"

namespace pans {

enum class Split { Training, Validation, Test };

const char* split_name(Split split);  // "training", "validation", "test"
// The folders of a split relative to the root: "train/images/training", "train/annotations/training".
std::string split_image_folder(Split split);
std::string split_label_folder(Split split);

struct SamplePaths {
  std::string image, label;
};

// An RGB image {H,W,3} and its class ids {H,W,1} (PNG value - 1, PNG 0 -> 255).
struct LabeledImage {
  Image image, label;
};

class StreetHazards {
 public:
  // Lists the split in sorted order of town folder, then file name. Throws pans::Error naming the
  // path for a missing split folder, a split with no PNG, or an image without its label file.
  StreetHazards(const std::string& root, Split split);

  std::int64_t size() const { return std::int64_t(samples_.size()); }
  const SamplePaths& paths(std::int64_t index) const;
  // Decodes sample `index`. Thread-safe. Throws pans::Error naming the file for an unreadable or
  // truncated PNG, a label that is not single-channel or holds a value above 14, and an image and
  // label of different sizes.
  LabeledImage load(std::int64_t index) const;
  // What load() would refuse in any sample's files but a broken middle (a bad PNG stream, label
  // values above 14), found without decoding: every image and label must be a complete PNG
  // (data/png.h read_png_header), every label single-channel 8-bit and of its image's size. Throws
  // pans::Error naming the first file at fault. Reads a few KiB per file: a training run calls it
  // before it writes anything, so that a bad file stops it at once rather than hours in.
  void check_files() const;

 private:
  std::vector<SamplePaths> samples_;
};

}  // namespace pans
