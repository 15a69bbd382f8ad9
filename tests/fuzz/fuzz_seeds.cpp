// Writes the seed corpus of every fuzz target into <folder>/<target>/, with pans' own writers: valid
// inputs from which libFuzzer mutates (tools/fuzz.sh runs it before the targets).
// Usage: fuzz_seeds <folder>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "checkpoint/checkpoint.h"
#include "checkpoint/recipe.h"
#include "data/png.h"
#include "eval/npy.h"
#include "models/pspnet_config.h"
#include "tests/fuzz/streethazards_tree.h"

namespace fs = std::filesystem;
using namespace pans;

namespace {

std::string file_bytes(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << bytes;
}

Image pattern(std::int64_t height, std::int64_t width, std::int64_t channels) {
  Image image(height, width, channels);
  for (std::size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = std::uint8_t(i % 14);
  return image;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds <folder>\n";
    return 2;
  }
  const fs::path out = argv[1];
  for (const char* target : {"png", "npy", "checkpoint", "recipe", "streethazards"})
    fs::create_directories(out / target);
  try {
    write_png((out / "png" / "grey.png").string(), pattern(5, 7, 1));
    write_png((out / "png" / "rgb.png").string(), pattern(4, 3, 3));

    FloatMatrix map;
    map.rows = 3;
    map.cols = 2;
    map.values = {0.f, 1.f, -2.5f, 3.f, 1e-3f, 7.f};
    write_npy_matrix((out / "npy" / "map.npy").string(), map);

    const nlohmann::json recipe = {{"model", pspnet_config_json(PspNetConfig::small())}, {"batch", 8}, {"crop", 192}};
    write_bytes(out / "recipe" / "recipe.json", recipe.dump());
    Checkpoint checkpoint;
    checkpoint.iteration = 3;
    checkpoint.config = recipe;
    checkpoint.ranks = 2;
    checkpoint.tensors = {{"conv.weight", Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3})},
                          {"bn.running_mean", Tensor::from_vector<float>({0.5f, -1}, {2})}};
    const fs::path checkpoints = out / "checkpoint" / "run";
    fs::create_directories(checkpoints);
    write_checkpoint(checkpoints.string(), checkpoint);
    fs::rename(checkpoint_path(checkpoints.string(), 3), out / "checkpoint" / "checkpoint.bin");
    fs::remove_all(checkpoints);

    // Two samples in two towns, and a label without its image.
    const std::string image = file_bytes(out / "png" / "rgb.png");
    write_png((out / "label.png").string(), pattern(4, 3, 1));
    const std::string label = file_bytes(out / "label.png");
    fs::remove(out / "label.png");
    write_bytes(
        out / "streethazards" / "tree",
        fuzz::encode_tree(
            {{0, "0.png", image}, {1, "0.png", label}, {4, "1.png", image}, {5, "1.png", label}, {1, "2.png", label}}));
  } catch (const std::exception& error) {
    std::cerr << "fuzz_seeds: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
