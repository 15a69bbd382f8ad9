// montage: equally sized PNGs into one grid PNG, row-major, separated by white gaps, for figures made
// from infer_pans' outputs (tools/figure_anomaly_maps.sh) without an image tool that a machine may
// lack. The PNG is written atomically (data/png.h), so a figure being replaced is never half a file.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "data/png.h"
#include "data/resize.h"
#include "tensor/error.h"

namespace {

using namespace pans;

struct Flags {
  int columns = 0, gap = 4;
  double scale = 1.0;
  std::string out;
  std::vector<std::string> images;
};

Image montage(const Flags& flags) {
  std::vector<Image> tiles;
  for (const std::string& path : flags.images) {
    Image tile = read_rgb_png(path);
    // Pasting would silently crop or pad a tile of another size, so the grid would no longer line up.
    if (!tiles.empty() && !tile.same_size(tiles[0]))
      PANS_FAIL(path, ": ", tile.height, "x", tile.width, ", but ", flags.images[0], " (the first image) is ",
                tiles[0].height, "x", tiles[0].width, "; every image must have one size");
    tiles.push_back(std::move(tile));
  }
  std::int64_t height = tiles[0].height, width = tiles[0].width;
  if (flags.scale != 1.0) {  // a committed figure should stay small; antialiased, so noise averages out
    height = std::max<std::int64_t>(1, std::llround(double(height) * flags.scale));
    width = std::max<std::int64_t>(1, std::llround(double(width) * flags.scale));
    for (Image& tile : tiles) tile = resize_antialiased_bilinear(tile, height, width);
  }
  const std::int64_t columns = flags.columns, gap = flags.gap;
  const std::int64_t rows = (std::int64_t(tiles.size()) + columns - 1) / columns;
  Image grid(rows * height + (rows - 1) * gap, columns * width + (columns - 1) * gap, 3, 255);
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    const std::int64_t top = std::int64_t(i) / columns * (height + gap),
                       left = std::int64_t(i) % columns * (width + gap);
    for (std::int64_t y = 0; y < height; ++y)
      for (std::int64_t x = 0; x < width; ++x)
        for (std::int64_t c = 0; c < 3; ++c) grid.at(top + y, left + x, c) = tiles[i].at(y, x, c);
  }
  return grid;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{
      "Pastes equally sized PNG images into one PNG grid, row-major (the first --columns images form the first "
      "row), with white gaps between them; a last row with fewer images is padded white. The output is written to "
      "a temporary name and renamed."};
  app.add_option("--columns", flags.columns, "images per row")->required()->check(CLI::PositiveNumber);
  app.add_option("--out", flags.out, "the grid PNG to write")->required();
  app.add_option("--gap", flags.gap, "white pixels between neighbouring images")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--scale", flags.scale, "resize every image by this factor first (antialiased), e.g. 0.5")
      ->check(CLI::Range(0.01, 16.0))
      ->capture_default_str();
  app.add_option("images", flags.images, "the PNG images, row by row")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    write_png(flags.out, montage(flags));
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "montage: %s\n", error.what());
    return 1;
  }
}
