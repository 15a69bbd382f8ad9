#include "data/scenes/generator.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "data/png.h"
#include "data/scenes/scene.h"
#include "tensor/error.h"

namespace pans::scenes {
namespace fs = std::filesystem;
namespace {

constexpr Split kSplits[] = {Split::Training, Split::Validation, Split::Test};

nlohmann::json manifest_json(const SceneConfig& config) {
  return {{"generator", "pans procedural street scenes (StreetHazards layout)"},
          {"version", kGeneratorVersion},
          {"seed", config.seed},
          {"width", config.width},
          {"height", config.height},
          {"training_images", config.training_images},
          {"validation_images", config.validation_images},
          {"test_images", config.test_images}};
}

bool manifest_matches(const fs::path& root, const SceneConfig& config) {
  std::ifstream file(root / kManifestName);
  if (!file) return false;
  const nlohmann::json stored = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
  return stored == manifest_json(config);
}

void sync_file_system(const std::string& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::syncfs(fd) != 0) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    PANS_FAIL(folder, ": cannot flush the generated files to disk (", std::strerror(error), ")");
  }
  ::close(fd);
}

void write_text_atomically(const fs::path& path, const std::string& text) {
  const fs::path temporary = path.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream file(temporary, std::ios::binary);
    file << text;
    file.flush();
    if (!file) PANS_FAIL(temporary.string(), ": write failed");
  }
  sync_file_system(temporary.parent_path().string());
  fs::rename(temporary, path);
}

void check_config(const SceneConfig& c) {
  PANS_CHECK(c.width >= 32 && c.height >= 32 && c.width <= 8192 && c.height <= 8192 && c.training_images > 0 &&
                 c.validation_images > 0 && c.test_images > 0,
             "scene generator: ", c.width, "x", c.height, " images, ", c.training_images, " training, ",
             c.validation_images, " validation, ", c.test_images, " test (sizes 32..8192, at least one image each)");
}

// Staging folders of generator runs that died (their process is gone) are garbage.
void remove_abandoned_staging(const fs::path& root) {
  const fs::path parent = root.has_parent_path() ? root.parent_path() : fs::path(".");
  const std::string prefix = root.filename().string() + ".partial-";
  std::error_code ignored;
  for (const fs::directory_entry& entry : fs::directory_iterator(parent, ignored)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const pid_t pid = pid_t(std::atoll(name.c_str() + prefix.size()));
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) fs::remove_all(entry.path(), ignored);
  }
}

}  // namespace

std::string scene_manifest(const SceneConfig& config) { return manifest_json(config).dump(2) + "\n"; }

void write_scenes(const std::string& folder, const SceneConfig& config, int threads) {
  check_config(config);
  struct Job {
    Split split;
    std::int64_t index;
  };
  std::vector<Job> jobs;
  for (Split split : kSplits)
    for (std::int64_t i = 0; i < images_in(config, split); ++i) {
      jobs.push_back({split, i});
      for (const std::string& kind : {split_image_folder(split), split_label_folder(split)})
        fs::create_directories(fs::path(folder) / kind / town_folder(scene_town(split, i)));
    }

  std::atomic<std::size_t> next{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  const auto work = [&] {
    for (std::size_t j = next++; j < jobs.size(); j = next++) {
      try {
        const Job& job = jobs[j];
        const RenderedScene scene = render_scene(config, job.split, job.index);
        char name[32];
        std::snprintf(name, sizeof name, "%05lld.png", static_cast<long long>(job.index));
        const fs::path town = town_folder(scene_town(job.split, job.index));
        write_png((fs::path(folder) / split_image_folder(job.split) / town / name).string(), scene.rgb,
                  FileSync::Deferred);
        write_png((fs::path(folder) / split_label_folder(job.split) / town / name).string(), scene.label_png,
                  FileSync::Deferred);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        next = jobs.size();  // stop the other threads early
      }
    }
  };
  const int count = threads > 0 ? threads : std::max(1, int(std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (int t = 1; t < count; ++t) pool.emplace_back(work);
  work();
  for (std::thread& thread : pool) thread.join();
  if (error) std::rethrow_exception(error);
  sync_file_system(folder);  // the images are on disk before the manifest says they are there
  write_text_atomically(fs::path(folder) / kManifestName, scene_manifest(config));
}

bool generate_if_missing(const std::string& root_text, const SceneConfig& config, int threads) {
  const fs::path root(root_text);
  if (manifest_matches(root, config)) return false;
  if (fs::exists(root) && !fs::exists(root / kManifestName) && !(fs::is_directory(root) && fs::is_empty(root)))
    PANS_FAIL(root_text, ": exists and is not a generated dataset (it has no ", kManifestName,
              "); refusing to overwrite it: remove it or choose another folder");
  if (root.has_parent_path()) fs::create_directories(root.parent_path());
  remove_abandoned_staging(root);

  const std::string pid = std::to_string(::getpid());
  const fs::path staging = root_text + ".partial-" + pid, stale = root_text + ".stale-" + pid;
  fs::remove_all(staging);
  write_scenes(staging.string(), config, threads);
  if (manifest_matches(root, config)) {  // another process finished first: keep its copy
    fs::remove_all(staging);
    return false;
  }
  const bool replacing = fs::exists(root);
  if (replacing) fs::rename(root, stale);
  std::error_code renamed;
  fs::rename(staging, root, renamed);
  if (renamed) {
    if (!manifest_matches(root, config))
      PANS_FAIL(root_text, ": cannot move the generated dataset into place (", renamed.message(), "); it is in ",
                staging.string());
    fs::remove_all(staging);
  }
  if (replacing) fs::remove_all(stale);
  return true;
}

}  // namespace pans::scenes
