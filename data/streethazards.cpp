#include "data/streethazards.h"

#include <algorithm>
#include <filesystem>

#include "data/classes.h"
#include "data/png.h"
#include "tensor/error.h"

namespace pans {

namespace fs = std::filesystem;

const char* split_name(Split split) {
  switch (split) {
    case Split::Training:
      return "training";
    case Split::Validation:
      return "validation";
    case Split::Test:
      return "test";
  }
  PANS_FAIL("split_name: unknown split ", int(split));
}

std::string split_image_folder(Split split) {
  return std::string(split == Split::Test ? "test" : "train") + "/images/" + split_name(split);
}

std::string split_label_folder(Split split) {
  return std::string(split == Split::Test ? "test" : "train") + "/annotations/" + split_name(split);
}

StreetHazards::StreetHazards(const std::string& root, Split split) {
  const fs::path images = fs::path(root) / split_image_folder(split);
  const fs::path labels = fs::path(root) / split_label_folder(split);
  if (!fs::is_directory(images))
    PANS_FAIL(images.string(), ": no such folder (expected the StreetHazards layout ", root, "/",
              split_image_folder(split), "/<town>/*.png)");
  if (!fs::is_directory(labels)) PANS_FAIL(labels.string(), ": no such folder (the labels of ", images.string(), ")");

  std::vector<fs::path> relative;  // <town>/<file>.png
  for (const fs::directory_entry& town : fs::directory_iterator(images)) {
    if (!town.is_directory()) continue;
    for (const fs::directory_entry& file : fs::directory_iterator(town.path()))
      if (file.is_regular_file() && file.path().extension() == ".png")
        relative.push_back(town.path().filename() / file.path().filename());
  }
  if (relative.empty()) PANS_FAIL(images.string(), ": no <town>/*.png images in this folder");
  std::sort(relative.begin(), relative.end());

  samples_.reserve(relative.size());
  for (const fs::path& name : relative) {
    const fs::path label = labels / name;
    if (!fs::is_regular_file(label)) PANS_FAIL(label.string(), ": missing label for ", (images / name).string());
    samples_.push_back({(images / name).string(), label.string()});
  }
}

const SamplePaths& StreetHazards::paths(std::int64_t index) const {
  PANS_CHECK(index >= 0 && index < size(), "StreetHazards: sample ", index, " of ", size());
  return samples_[std::size_t(index)];
}

namespace {

void check_same_size(const SamplePaths& files, std::int64_t label_height, std::int64_t label_width,
                     std::int64_t image_height, std::int64_t image_width) {
  if (label_height != image_height || label_width != image_width)
    PANS_FAIL(files.label, ": label is ", label_height, "x", label_width, " but its image ", files.image, " is ",
              image_height, "x", image_width);
}

}  // namespace

LabeledImage StreetHazards::load(std::int64_t index) const {
  const SamplePaths& files = paths(index);
  LabeledImage sample{read_rgb_png(files.image), read_label_png(files.label)};
  check_same_size(files, sample.label.height, sample.label.width, sample.image.height, sample.image.width);
  streethazards::decode_label_values(sample.label, files.label);
  return sample;
}

void StreetHazards::check_files() const {
  for (const SamplePaths& files : samples_) {
    const PngHeader image = read_png_header(files.image), label = read_png_header(files.label);
    if (label.channels != 1 || label.sixteen_bit)
      PANS_FAIL(files.label, ": a label map must be a single-channel 8-bit PNG, this one has ", label.channels,
                " channels", label.sixteen_bit ? " of 16-bit samples" : "");
    check_same_size(files, label.height, label.width, image.height, image.width);
  }
}

}  // namespace pans
