#include "checkpoint/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "checkpoint/json_integer.h"
#include "data/atomic_file.h"
#include "tensor/error.h"

namespace pans {
namespace fs = std::filesystem;
namespace {

constexpr char kMagic[8] = {'P', 'A', 'N', 'S', 'C', 'K', 'P', 'T'};
constexpr const char* kCheckpointPrefix = "checkpoint_";
constexpr const char* kDonePrefix = "DONE_";

// FNV-1a over the payload: cheap next to the disk, and enough to tell a damaged file from a good one.
class Fnv1a64 {
 public:
  void add(const void* data, std::size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) hash_ = (hash_ ^ p[i]) * 0x100000001b3ull;
  }
  std::string hex() const {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash_));
    return text;
  }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ull;
};

std::string iteration_digits(std::int64_t iteration) {
  char text[32];
  std::snprintf(text, sizeof text, "%08lld", static_cast<long long>(iteration));
  return text;
}

// A rename or a new file is durable once its folder's entry is.
void sync_folder(const std::string& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  PANS_CHECK(fd >= 0, folder, ": cannot open the folder to sync it (", std::strerror(errno), ")");
  const int result = ::fsync(fd);
  ::close(fd);
  PANS_CHECK(result == 0, folder, ": fsync failed (", std::strerror(errno), ")");
}

template <class T>
void put(std::string& bytes, T value) {
  bytes.append(reinterpret_cast<const char*>(&value), sizeof value);
}

Tensor cpu_float32(const Tensor& value, const std::string& name) {
  PANS_CHECK(value.defined() && value.dtype() == DType::F32, "write_checkpoint: ", value.describe(name),
             " is not float32");
  return value.device().is_cpu() && value.is_contiguous() ? value : value.to(Device::cpu());
}

void read_exactly(std::ifstream& file, void* data, std::size_t bytes, const std::string& path, const char* what) {
  file.read(static_cast<char*>(data), std::streamsize(bytes));
  PANS_CHECK(file.gcount() == std::streamsize(bytes), path, ": truncated checkpoint (the file ends inside its ", what,
             ")");
}

}  // namespace

std::string checkpoint_path(const std::string& folder, std::int64_t iteration) {
  return (fs::path(folder) / (kCheckpointPrefix + iteration_digits(iteration) + ".bin")).string();
}

std::string done_marker_path(const std::string& folder, std::int64_t iteration) {
  return (fs::path(folder) / (kDonePrefix + iteration_digits(iteration))).string();
}

void write_checkpoint(const std::string& folder, const Checkpoint& checkpoint) {
  std::vector<Tensor> values;
  nlohmann::json entries = nlohmann::json::array();
  std::uint64_t payload_bytes = 0;
  Fnv1a64 checksum;
  for (const NamedTensor& tensor : checkpoint.tensors) {
    values.push_back(cpu_float32(tensor.value, tensor.name));
    entries.push_back({{"name", tensor.name}, {"shape", tensor.value.shape()}});
    payload_bytes += values.back().nbytes();
    checksum.add(values.back().raw_data(), values.back().nbytes());
  }
  const std::string header = nlohmann::json{
      {"iteration", checkpoint.iteration},
      {"config", checkpoint.config},
      {"ranks", checkpoint.ranks},
      {"tensors", entries},
      {"payload_bytes", payload_bytes},
      {"payload_fnv1a64",
       checksum.hex()}}.dump();
  std::string preamble(kMagic, sizeof kMagic);
  put(preamble, kCheckpointVersion);
  put(preamble, std::uint64_t(header.size()));

  AtomicFile file(checkpoint_path(folder, checkpoint.iteration));
  file.write(preamble.data(), preamble.size());
  file.write(header.data(), header.size());
  for (const Tensor& value : values) file.write(value.raw_data(), value.nbytes());
  file.commit();
  sync_folder(folder);
  write_file_atomically(done_marker_path(folder, checkpoint.iteration), "");
  sync_folder(folder);
}

Checkpoint read_checkpoint(const std::string& path) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  PANS_CHECK(file, path, ": cannot open the checkpoint");
  // Every length the file states is checked against what the file holds before anything of that
  // length is allocated: a damaged or hostile header cannot ask for more memory than the file's size.
  const std::streamoff file_bytes = file.tellg();
  PANS_CHECK(file_bytes >= 0, path, ": cannot read the checkpoint's size");
  file.seekg(0);
  char magic[sizeof kMagic];
  read_exactly(file, magic, sizeof magic, path, "magic number");
  PANS_CHECK(std::memcmp(magic, kMagic, sizeof kMagic) == 0, path, ": not a pans checkpoint (bad magic number)");
  std::uint32_t version = 0;
  std::uint64_t header_bytes = 0;
  read_exactly(file, &version, sizeof version, path, "version");
  PANS_CHECK(version == kCheckpointVersion, path, ": checkpoint format version ", version, ", this build reads ",
             kCheckpointVersion);
  read_exactly(file, &header_bytes, sizeof header_bytes, path, "header length");
  const std::uint64_t after_preamble = std::uint64_t(file_bytes) - std::uint64_t(file.tellg());
  PANS_CHECK(header_bytes <= after_preamble, path, ": truncated checkpoint (its header is ", header_bytes,
             " bytes long, the file holds ", after_preamble, " bytes after the preamble)");
  std::string header_text(header_bytes, '\0');
  read_exactly(file, header_text.data(), header_text.size(), path, "header");
  const std::uint64_t after_header = after_preamble - header_bytes;

  Checkpoint checkpoint;
  std::uint64_t payload_bytes = 0;
  std::string expected_checksum;
  std::vector<std::pair<std::string, Shape>> listed;
  try {
    const nlohmann::json header = nlohmann::json::parse(header_text);
    const std::string in_header = path + ": corrupt checkpoint header";
    checkpoint.iteration = json_integer<std::int64_t>(header.at("iteration"), in_header, "iteration");
    checkpoint.config = header.at("config");
    // Absent before world-size changes were allowed.
    checkpoint.ranks = header.contains("ranks") ? json_integer<int>(header["ranks"], in_header, "ranks") : 1;
    payload_bytes = json_integer<std::uint64_t>(header.at("payload_bytes"), in_header, "payload_bytes");
    expected_checksum = header.at("payload_fnv1a64").get<std::string>();
    for (const nlohmann::json& entry : header.at("tensors"))
      listed.emplace_back(entry.at("name").get<std::string>(),
                          json_integers<std::int64_t>(entry.at("shape"), in_header, "a tensor's shape"));
  } catch (const nlohmann::json::exception& error) {
    PANS_FAIL(path, ": corrupt checkpoint header (", error.what(), ")");
  }
  PANS_CHECK(payload_bytes == after_header, path, ": truncated or corrupt checkpoint (the header announces ",
             payload_bytes, " bytes of tensors, the file holds ", after_header, ")");
  // The listed tensors' sizes, each capped just past the payload so that no product of extents
  // can overflow, summed until one passes it.
  std::uint64_t listed_bytes = 0;
  for (const auto& [name, shape] : listed) {
    std::uint64_t bytes = sizeof(float);
    for (const std::int64_t extent : shape) {
      PANS_CHECK(extent >= 0, path, ": corrupt checkpoint header (tensor ", name, " has the shape ", shape_str(shape),
                 ")");
      const std::uint64_t factor = std::uint64_t(extent);
      bytes = factor != 0 && bytes > payload_bytes / factor ? payload_bytes + 1 : bytes * factor;
    }
    listed_bytes += bytes;
    PANS_CHECK(listed_bytes <= payload_bytes, path, ": corrupt checkpoint (tensor ", name, " of shape ",
               shape_str(shape), " does not fit in the ", payload_bytes, " bytes of tensors the file holds)");
  }
  PANS_CHECK(listed_bytes == payload_bytes, path, ": corrupt checkpoint (the tensors listed hold ", listed_bytes,
             " bytes, the file holds ", payload_bytes, ")");
  for (auto& [name, shape] : listed) checkpoint.tensors.push_back({std::move(name), Tensor::empty(shape)});

  Fnv1a64 checksum;
  for (NamedTensor& tensor : checkpoint.tensors) {
    read_exactly(file, tensor.value.raw_data(), tensor.value.nbytes(), path, ("tensor " + tensor.name).c_str());
    checksum.add(tensor.value.raw_data(), tensor.value.nbytes());
  }
  PANS_CHECK(checksum.hex() == expected_checksum, path, ": corrupt checkpoint (payload checksum ", checksum.hex(),
             ", the header says ", expected_checksum, ")");
  return checkpoint;
}

bool is_checkpoint_file_name(const std::string& name) {
  return name.rfind(kCheckpointPrefix, 0) == 0 || name.rfind(kDonePrefix, 0) == 0;
}

int remove_checkpoint_temporaries(const std::string& folder) {
  std::vector<fs::path> temporaries;  // collected first: removing while iterating is unspecified
  std::error_code missing;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder, missing)) {
    const std::string name = entry.path().filename().string();
    if (is_checkpoint_file_name(name) && name.find(".tmp.") != std::string::npos)
      temporaries.push_back(entry.path());
  }
  for (const fs::path& temporary : temporaries) fs::remove(temporary);
  return int(temporaries.size());
}

std::vector<std::int64_t> complete_checkpoints(const std::string& folder) {
  std::vector<std::int64_t> iterations;
  std::error_code missing;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder, missing)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kDonePrefix, 0) != 0) continue;
    const std::string digits = name.substr(std::strlen(kDonePrefix));
    if (digits.empty() || digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    iterations.push_back(std::stoll(digits));
  }
  std::sort(iterations.begin(), iterations.end());
  return iterations;
}

void remove_old_checkpoints(const std::string& folder, int keep) {
  const std::vector<std::int64_t> iterations = complete_checkpoints(folder);
  for (std::size_t i = 0; i + std::size_t(keep) < iterations.size(); ++i) {
    fs::remove(done_marker_path(folder, iterations[i]));
    fs::remove(checkpoint_path(folder, iterations[i]));
  }
}

void restore_tensors(const Checkpoint& checkpoint, const std::vector<NamedTensor>& destinations,
                     const std::string& path) {
  std::map<std::string, const Tensor*> stored;
  for (const NamedTensor& tensor : checkpoint.tensors) stored[tensor.name] = &tensor.value;
  PANS_CHECK(stored.size() == destinations.size(), path, ": the checkpoint holds ", stored.size(),
             " tensors, the model and optimizer have ", destinations.size());
  for (const NamedTensor& destination : destinations) {
    const auto found = stored.find(destination.name);
    PANS_CHECK(found != stored.end(), path, ": the checkpoint has no tensor ", destination.name);
    PANS_CHECK(found->second->same_shape(destination.value), path, ": ", found->second->describe(destination.name),
               " in the checkpoint, ", destination.value.describe(destination.name), " in the model");
    Tensor target = destination.value;
    target.copy_from(*found->second);
  }
}

}  // namespace pans
