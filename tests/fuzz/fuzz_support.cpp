#include "tests/fuzz/fuzz_support.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tensor/error.h"

namespace pans::fuzz {
namespace fs = std::filesystem;

namespace {

struct ScratchFolder {
  std::string path;
  ScratchFolder() {
    std::string pattern =
        (fs::temp_directory_path() / ("pans-fuzz-" + std::to_string(::getpid()) + "-XXXXXX")).string();
    PANS_CHECK(::mkdtemp(pattern.data()) != nullptr, pattern, ": cannot create the fuzz scratch folder");
    path = pattern;
  }
  ~ScratchFolder() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

}  // namespace

const std::string& scratch_folder() {
  static const ScratchFolder folder;
  return folder.path;
}

std::string write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::string path = (fs::path(scratch_folder()) / name).string();
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  PANS_CHECK(file.flush(), path, ": cannot write the fuzz input");
  return path;
}

}  // namespace pans::fuzz
