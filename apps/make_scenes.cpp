// make_scenes: writes pans' embedded dataset, procedural street scenes in the StreetHazards layout
// (train/images/training/t1..t3, train/images/validation/t4, test/images/test/t5..t6, labels beside
// them), or leaves an up-to-date copy alone. train_pans does the same on its own when run without
// --data; this tool is for looking at the data, or for making a bigger or sharper variant.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "data/classes.h"
#include "data/png.h"
#include "data/scenes/generator.h"
#include "data/streethazards.h"

namespace {

using namespace pans;

// Image above its colourised labels, for the first `count` images of each split.
void write_previews(const std::string& root, const std::string& folder, int count) {
  std::filesystem::create_directories(folder);
  for (Split split : {Split::Training, Split::Validation, Split::Test}) {
    const StreetHazards dataset(root, split);
    for (std::int64_t i = 0; i < std::min<std::int64_t>(count, dataset.size()); ++i) {
      const LabeledImage sample = dataset.load(i);
      const Image colors = streethazards::colorize(sample.label);
      Image both(2 * sample.image.height, sample.image.width, 3);
      std::copy(sample.image.pixels.begin(), sample.image.pixels.end(), both.pixels.begin());
      std::copy(colors.pixels.begin(), colors.pixels.end(),
                both.pixels.begin() + std::ptrdiff_t(sample.image.pixels.size()));
      write_png(folder + "/" + split_name(split) + "_" + std::to_string(i) + ".png", both);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  scenes::SceneConfig config;
  std::string root = "data_cache/scenes", preview;
  int threads = 0, preview_count = 4;
  CLI::App app{
      "Generates the embedded StreetHazards-format dataset of procedural street scenes (cached: "
      "nothing is written when the folder's manifest already matches)."};
  app.add_option("--out", root, "dataset root folder")->capture_default_str();
  app.add_option("--seed", config.seed, "generator seed")->capture_default_str();
  app.add_option("--width", config.width, "image width in pixels")->check(CLI::Range(32, 8192))->capture_default_str();
  app.add_option("--height", config.height, "image height in pixels")
      ->check(CLI::Range(32, 8192))
      ->capture_default_str();
  app.add_option("--train", config.training_images, "training images (towns t1-t3)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--val", config.validation_images, "validation images (town t4)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--test", config.test_images, "test images with anomalies (towns t5, t6)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--threads", threads, "rendering threads (0: one per core)")->check(CLI::NonNegativeNumber);
  app.add_option("--preview", preview, "also write image-over-labels previews into this folder");
  app.add_option("--preview-count", preview_count, "previews per split")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const auto start = std::chrono::steady_clock::now();
    const bool generated = scenes::generate_if_missing(root, config, threads);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (generated)
      std::printf("make_scenes: wrote %d + %d + %d images of %dx%d to %s in %.1f s\n", config.training_images,
                  config.validation_images, config.test_images, config.width, config.height, root.c_str(), seconds);
    else
      std::printf("make_scenes: %s is up to date\n", root.c_str());
    if (!preview.empty()) write_previews(root, preview, preview_count);
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "make_scenes: %s\n", error.what());
    return 1;
  }
}
