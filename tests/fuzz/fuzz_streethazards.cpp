// data/streethazards.h on a folder tree built from the input (streethazards_tree.h): listing the
// split, checking every file (what train_pans does before it starts) and loading the first samples
// must succeed or throw pans::Error, whatever the files hold and whichever are missing.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "data/streethazards.h"
#include "tensor/error.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/streethazards_tree.h"

namespace fs = std::filesystem;

namespace {

std::string clean_name(const std::uint8_t* data, std::size_t size) {
  std::string name;
  for (std::size_t i = 0; i < size; ++i) {
    const char c = char(data[i]);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.') name += c;
  }
  return name.find_first_not_of('.') == std::string::npos ? "x.png" : name;
}

void build_tree(const fs::path& root, const std::uint8_t* data, std::size_t size) {
  const fs::path images = root / "train/images/training", labels = root / "train/annotations/training";
  fs::create_directories(images);
  fs::create_directories(labels);
  std::size_t at = 0;
  while (at + 2 <= size) {
    const std::uint8_t what = data[at];
    const std::size_t name_size = std::min<std::size_t>(data[at + 1], size - at - 2);
    const std::string name = clean_name(data + at + 2, name_size);
    at += 2 + name_size;
    std::size_t content_size = 0;
    if (at + 2 <= size)
      content_size = std::min<std::size_t>(data[at] | (std::size_t(data[at + 1]) << 8), size - at - 2);
    const std::uint8_t* content = data + std::min(at + 2, size);
    at = std::min(at + 2, size) + content_size;

    const std::string town = (what / 4) % 2 == 0 ? "a" : "b";
    const fs::path folder = what % 4 == 0 ? images / town : what % 4 == 2 ? images : labels / town;
    std::error_code error;  // a name taken by a folder, or by a file where a folder should be: skip it
    fs::create_directories(folder, error);
    if (what % 4 == 3) {
      fs::create_directories(folder / name, error);
      continue;
    }
    std::ofstream file(folder / name, std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(content), std::streamsize(content_size));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fs::path root = fs::path(pans::fuzz::scratch_folder()) / "streethazards";
  fs::remove_all(root);
  build_tree(root, data, size);
  try {
    const pans::StreetHazards split(root.string(), pans::Split::Training);
    split.check_files();
    for (std::int64_t i = 0; i < std::min<std::int64_t>(split.size(), 2); ++i) split.load(i);
  } catch (const pans::Error&) {
  }
  return 0;
}
