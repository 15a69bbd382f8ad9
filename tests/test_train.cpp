// train_pans' parts: checkpoints (round trip, completeness markers, corrupt files), the segmentation
// scores against a hand-computed confusion matrix, and the training loop on a tiny generated
// dataset: a resumed run ends with the same bits as one that never stopped, and a checkpoint of
// another recipe, a corrupt checkpoint or an occupied output folder are refused with errors naming
// them.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "checkpoint/checkpoint.h"
#include "checkpoint/model_state.h"
#include "checkpoint/recipe.h"
#include "data/scenes/generator.h"
#include "data/streethazards.h"
#include "kernels/nonfinite.h"
#include "metrics/segmentation_metrics.h"
#include "train/trainer.h"
#include "tests/test_helpers.h"
#include "tests/tiny_training.h"

using namespace pans;
using namespace pans::test;
namespace fs = std::filesystem;

namespace {

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
}

Tensor counting_tensor(const Shape& shape, float start) {
  Tensor t = Tensor::empty(shape);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = start + 0.25f * float(i);
  return t;
}

Checkpoint sample_checkpoint(std::int64_t iteration) {
  return {
      iteration,
      {{"lr", 0.02}, {"crop", 192}},
      {{"body.conv1.weight", counting_tensor({2, 3, 3, 1}, 1.5f)}, {"cls.cls.weight", counting_tensor({4}, -2.0f)}}};
}

// A checkpoint file as write_checkpoint lays it out, with any header and payload.
std::vector<char> checkpoint_bytes(const nlohmann::json& header, std::uint64_t header_length, std::size_t payload) {
  std::vector<char> bytes = {'P', 'A', 'N', 'S', 'C', 'K', 'P', 'T'};
  const auto append = [&](const void* data, std::size_t size) {
    bytes.insert(bytes.end(), static_cast<const char*>(data), static_cast<const char*>(data) + size);
  };
  append(&kCheckpointVersion, sizeof kCheckpointVersion);
  append(&header_length, sizeof header_length);
  const std::string text = header.dump();
  append(text.data(), text.size());
  bytes.resize(bytes.size() + payload, 0);
  return bytes;
}

nlohmann::json tensor_header(const nlohmann::json& shape, std::uint64_t payload_bytes) {
  return {{"iteration", 1},
          {"config", {{"batch", 2}}},
          {"tensors", nlohmann::json::array({{{"name", "conv.weight"}, {"shape", shape}}})},
          {"payload_bytes", payload_bytes},
          {"payload_fnv1a64", "0"}};
}

// Runs `body` in a child process whose files may not grow past `limit_bytes` (RLIMIT_FSIZE, with
// SIGXFSZ ignored, so that a write past it fails with EFBIG as on a full disk); returns the message
// of the pans::Error it threw, "" when it threw none.
template <class Body>
std::string error_under_file_size_limit(rlim_t limit_bytes, Body body) {
  int pipe_ends[2];
  REQUIRE(::pipe(pipe_ends) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipe_ends[0]);
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit = {limit_bytes, limit_bytes};
    std::string message;
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) message = "setrlimit failed";
    try {
      if (message.empty()) body();
    } catch (const Error& error) {
      message = error.what();
    }
    if (!message.empty() && ::write(pipe_ends[1], message.data(), message.size()) < 0) ::_exit(2);
    ::_exit(0);
  }
  ::close(pipe_ends[1]);
  std::string message;
  char chunk[512];
  for (ssize_t n; (n = ::read(pipe_ends[0], chunk, sizeof chunk)) > 0;) message.append(chunk, std::size_t(n));
  ::close(pipe_ends[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  return message;
}

// The names in `folder` that hold ".tmp": temporaries of data/atomic_file.h.
std::vector<std::string> temporaries_in(const std::string& folder) {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder))
    if (entry.path().filename().string().find(".tmp") != std::string::npos) names.push_back(entry.path().string());
  return names;
}

}  // namespace

TEST_CASE("checkpoint: a round trip restores every tensor bit for bit, and only a DONE marker makes it complete") {
  TempDir dir;
  const Checkpoint written = sample_checkpoint(120);
  write_checkpoint(dir / "", written);
  CHECK(fs::exists(checkpoint_path(dir / "", 120)));
  CHECK(fs::exists(done_marker_path(dir / "", 120)));
  CHECK(temporaries_in(dir / "").empty());
  CHECK(complete_checkpoints(dir / "") == std::vector<std::int64_t>{120});

  const Checkpoint read = read_checkpoint(checkpoint_path(dir / "", 120));
  CHECK(read.iteration == 120);
  CHECK(read.config == written.config);
  REQUIRE(read.tensors.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(read.tensors[i].name == written.tensors[i].name);
    CHECK(read.tensors[i].value.shape() == written.tensors[i].value.shape());
    CHECK(read.tensors[i].value.to_vector<float>() == written.tensors[i].value.to_vector<float>());
  }

  std::vector<NamedTensor> destinations = {{"cls.cls.weight", Tensor::zeros({4})},
                                           {"body.conv1.weight", Tensor::zeros({2, 3, 3, 1})}};
  restore_tensors(read, destinations, "ckpt");
  CHECK(destinations[0].value.to_vector<float>() == written.tensors[1].value.to_vector<float>());
  destinations[1].value = Tensor::zeros({2, 3, 3, 2});
  check_error_mentions([&] { restore_tensors(read, destinations, "ckpt.bin"); }, {"ckpt.bin", "body.conv1.weight"});

  write_checkpoint(dir / "", sample_checkpoint(240));
  write_checkpoint(dir / "", sample_checkpoint(360));
  fs::remove(done_marker_path(dir / "", 360));  // as if killed between the rename and the marker
  CHECK(complete_checkpoints(dir / "") == std::vector<std::int64_t>{120, 240});
  remove_old_checkpoints(dir / "", 1);
  CHECK(complete_checkpoints(dir / "") == std::vector<std::int64_t>{240});
  CHECK_FALSE(fs::exists(checkpoint_path(dir / "", 120)));
}

TEST_CASE("checkpoint: every truncation, a flipped payload byte and a foreign file are errors naming the file") {
  TempDir dir;
  write_checkpoint(dir / "", sample_checkpoint(7));
  const std::string path = checkpoint_path(dir / "", 7);
  const std::vector<char> good = read_bytes(path);
  for (std::size_t length = 0; length < good.size(); length += 7) {
    CAPTURE(length);
    write_bytes(path, std::vector<char>(good.begin(), good.begin() + std::ptrdiff_t(length)));
    check_error_mentions([&] { read_checkpoint(path); }, {path});
  }
  std::vector<char> flipped = good;
  flipped[flipped.size() - 3] ^= 0x10;
  write_bytes(path, flipped);
  check_error_mentions([&] { read_checkpoint(path); }, {path, "checksum"});
  write_bytes(path, {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  check_error_mentions([&] { read_checkpoint(path); }, {path, "not a pans checkpoint"});
  check_error_mentions([&] { read_checkpoint(dir / "missing.bin"); }, {"missing.bin"});
}

// Lengths in a header are checked against the file before anything of that size is allocated: a
// few hundred bytes cannot make the reader allocate terabytes (tests/fuzz/fuzz_checkpoint looks for
// more).
TEST_CASE("checkpoint: header and tensor sizes beyond the file's length are errors naming the file") {
  TempDir dir;
  const std::string path = dir / "checkpoint_00000001.bin";
  write_bytes(path, checkpoint_bytes(nlohmann::json::object(), std::uint64_t(1) << 29, 0));
  check_error_mentions([&] { read_checkpoint(path); }, {path, "truncated", "536870912 bytes long"});

  const auto with_header = [&](const nlohmann::json& header, std::size_t payload) {
    write_bytes(path, checkpoint_bytes(header, header.dump().size(), payload));
  };
  with_header(tensor_header(nlohmann::json::array({std::int64_t(1) << 40}), std::uint64_t(4) << 40), 16);  // [2^40] of float32
  check_error_mentions([&] { read_checkpoint(path); }, {path, "announces 4398046511104 bytes", "holds 16"});
  with_header(tensor_header(nlohmann::json::array({std::int64_t(1) << 40}), 16), 16);
  check_error_mentions([&] { read_checkpoint(path); }, {path, "conv.weight", "[1099511627776]", "does not fit"});
  // Extents whose product overflows 64 bits, and a negative one.
  with_header(tensor_header(nlohmann::json::array({std::int64_t(1) << 32, std::int64_t(1) << 32, 16}), 16), 16);
  check_error_mentions([&] { read_checkpoint(path); }, {path, "conv.weight", "does not fit"});
  with_header(tensor_header(nlohmann::json::array({-4, -1}), 16), 16);
  check_error_mentions([&] { read_checkpoint(path); }, {path, "conv.weight", "[-4,-1]"});
  with_header(tensor_header(nlohmann::json::array({2}), 16), 16);
  check_error_mentions([&] { read_checkpoint(path); }, {path, "the tensors listed hold 8 bytes"});
}

TEST_CASE("recipe: a stored recipe that is no object, a batch or size that is no integer, are errors naming the file") {
  const nlohmann::json current = {{"batch", 2}, {"lr", 0.02}};
  CHECK(recipe_differences(nlohmann::json(99), current).find("not an object") != std::string::npos);
  CHECK(recipe_differences(current, current).empty());
  check_error_mentions([] { recipe_global_batch(nlohmann::json(99), "ckpt.bin"); }, {"ckpt.bin", "not an object"});
  check_error_mentions([] { recipe_global_batch({{"batch", "2"}}, "ckpt.bin"); }, {"ckpt.bin", "batch", "integer"});
  CHECK(recipe_global_batch({{"batch", 6}}, "ckpt.bin") == 6);
  CHECK(recipe_global_batch({{"lr", 0.1}}, "ckpt.bin") == 0);

  // The model's sizes: JSON integers in range (a float cast to an integer out of range is undefined
  // behaviour, found by tests/fuzz/fuzz_recipe), and no network larger than any real one.
  const nlohmann::json recipe = {{"model", pspnet_config_json(PspNetConfig::small())}};
  CHECK(pspnet_config_from_recipe(recipe, "ckpt.bin").widths == PspNetConfig::small().widths);
  nlohmann::json wide = recipe;
  wide["model"]["widths"][0] = 6.7e36;
  check_error_mentions([&] { pspnet_config_from_recipe(wide, "ckpt.bin"); }, {"ckpt.bin", "model.widths", "integer"});
  wide["model"]["widths"][0] = std::int64_t(1) << 40;
  check_error_mentions([&] { pspnet_config_from_recipe(wide, "ckpt.bin"); }, {"ckpt.bin", "model.widths", "outside"});
  nlohmann::json no_bins = recipe;
  no_bins["model"]["pyramid_bins"] = nlohmann::json::array();
  check_error_mentions([&] { pspnet_config_from_recipe(no_bins, "ckpt.bin"); }, {"ckpt.bin", "pyramid_bins"});
}

// A full disk, as a file size limit: the write fails with an error naming the checkpoint, the
// previous checkpoint stays complete and readable, and nothing of the failed one is left.
TEST_CASE("checkpoint: a write that runs out of space names the file and leaves the previous checkpoint") {
  TempDir dir;
  write_checkpoint(dir / "", sample_checkpoint(10));
  const std::vector<char> previous = read_bytes(checkpoint_path(dir / "", 10));
  Checkpoint larger = sample_checkpoint(20);
  larger.tensors.push_back({"big", counting_tensor({4096}, 0.f)});
  // Room for the previous checkpoint's size but not the larger one's 16 KiB payload.
  const std::string message = error_under_file_size_limit(previous.size() + 100, [&] {
    write_checkpoint(dir / "", larger);
  });
  CAPTURE(message);
  CHECK(message.find(checkpoint_path(dir / "", 20)) != std::string::npos);
  CHECK(message.find("write failed") != std::string::npos);
  CHECK(message.find(std::strerror(EFBIG)) != std::string::npos);
  CHECK(temporaries_in(dir / "").empty());
  CHECK_FALSE(fs::exists(checkpoint_path(dir / "", 20)));
  CHECK(complete_checkpoints(dir / "") == std::vector<std::int64_t>{10});
  CHECK(read_bytes(checkpoint_path(dir / "", 10)) == previous);
  CHECK(read_checkpoint(checkpoint_path(dir / "", 10)).iteration == 10);
}

TEST_CASE("metrics: per-class IoU, mIoU13 over present classes and mIoU11 without other and pedestrian") {
  ConfusionMatrix matrix(13);
  // Ground truth: unlabeled 10 pixels (8 right, 2 called road), road 20 (15 right, 5 called
  // sidewalk), sidewalk 5 (all right), pedestrian 4 (1 right, 3 called road), car 6 (none right:
  // all called wall). Wall and the other 7 classes are absent from the ground truth.
  matrix.add(0, 0, 8);
  matrix.add(0, 7, 2);
  matrix.add(7, 7, 15);
  matrix.add(7, 8, 5);
  matrix.add(8, 8, 5);
  matrix.add(4, 4, 1);
  matrix.add(4, 7, 3);
  matrix.add(10, 11, 6);
  const SegmentationScores scores = segmentation_scores(matrix);
  const double unlabeled = 8.0 / 10, road = 15.0 / (20 + 5), sidewalk = 5.0 / 10, pedestrian = 1.0 / 4, car = 0;
  REQUIRE(scores.iou.size() == 13);
  CHECK(*scores.iou[0] == doctest::Approx(unlabeled));
  CHECK(*scores.iou[7] == doctest::Approx(road));  // TP 15, FN 5, FP 2 + 3
  CHECK(*scores.iou[8] == doctest::Approx(sidewalk));
  CHECK(*scores.iou[4] == doctest::Approx(pedestrian));
  CHECK(*scores.iou[10] == doctest::Approx(car));
  for (int absent : {1, 2, 3, 5, 6, 9, 11, 12}) CHECK_FALSE(scores.iou[std::size_t(absent)].has_value());
  CHECK(*scores.miou13 == doctest::Approx((unlabeled + road + sidewalk + pedestrian + car) / 5));
  CHECK(*scores.miou11 == doctest::Approx((unlabeled + road + sidewalk + car) / 4));
  CHECK(scores.pixel_accuracy == doctest::Approx(29.0 / 45));
  CHECK(format_scores(scores).find("pedestrian*") != std::string::npos);

  // From logits: argmax per pixel (ties to the lower class); anomaly (13) and ignore (255) are skipped.
  ConfusionMatrix from_logits(3);
  const Tensor logits = Tensor::from_vector<float>({0, 5, 1, /**/ 2, 2, 0, /**/ 9, 0, 0, /**/ 0, 0, 4}, {1, 2, 2, 3});
  const Tensor labels = Tensor::from_vector<std::uint8_t>({1, 1, 255, 3}, {1, 2, 2});
  from_logits.add_predictions(logits, labels);
  CHECK(from_logits.count(1, 1) == 1);
  CHECK(from_logits.count(1, 0) == 1);
  CHECK(from_logits.total() == 2);
}

// Data parallelism trains on the global batch (--batch x ranks), so the recipe records it and the
// schedule follows it: 2 ranks x 2 and 1 rank x 4 are one recipe, and a run may resume with either.
TEST_CASE("recipe: the batch and the schedule of --epochs are the global batch's, whatever the world size") {
  TrainConfig per_rank_2 = cpu_defaults();
  per_rank_2.epochs = 3;
  per_rank_2.batch = 2;
  TrainConfig alone_4 = per_rank_2;
  alone_4.batch = 4;
  CHECK(total_iterations(per_rank_2, 11, 2) == 3 * (11 / 4));
  CHECK(total_iterations(alone_4, 11, 1) == 3 * (11 / 4));
  CHECK(recipe_json(per_rank_2, 2, 6) == recipe_json(alone_4, 1, 6));
  CHECK(recipe_json(per_rank_2, 2, 6)["batch"] == 4);
  CHECK(recipe_differences(recipe_json(per_rank_2, 1, 6), recipe_json(per_rank_2, 2, 6)) ==
        "batch: 2 in the checkpoint, 4 now");
}

TEST_CASE("training: N iterations straight give the same bits as N/2, a resume, then N/2") {
  TempDir dir;
  const std::string data = tiny_dataset(dir.path());
  std::ostringstream console;
  const TrainSummary straight = train(tiny_train_config(data, dir / "straight"), console);
  CHECK(straight.iteration == 6);
  REQUIRE(straight.last_validation.has_value());
  CHECK(straight.last_validation->miou13.has_value());

  TrainConfig first_half = tiny_train_config(data, dir / "resumed");
  first_half.stop_after = 3;
  CHECK(train(first_half, console).iteration == 3);
  CHECK(complete_checkpoints(dir / "resumed") == std::vector<std::int64_t>{3});
  TrainConfig second_half = tiny_train_config(data, dir / "resumed");
  second_half.start = StartFrom::LatestCheckpoint;
  second_half.workers = 1;  // the loader's thread count does not change the batches
  CHECK(train(second_half, console).iteration == 6);

  const Checkpoint a = read_checkpoint(checkpoint_path(dir / "straight", 6));
  const Checkpoint b = read_checkpoint(checkpoint_path(dir / "resumed", 6));
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    CAPTURE(a.tensors[i].name);
    CHECK(a.tensors[i].name == b.tensors[i].name);
    CHECK(a.tensors[i].value.to_vector<float>() == b.tensors[i].value.to_vector<float>());
  }
  std::int64_t momentum_tensors = 0;
  for (const NamedTensor& t : a.tensors) momentum_tensors += t.name.rfind("momentum.", 0) == 0;
  CHECK(momentum_tensors > 0);
  std::ifstream log(dir / "resumed/metrics.jsonl");
  std::string line;
  int validations = 0;
  while (std::getline(log, line)) validations += line.find("\"type\":\"validation\"") != std::string::npos;
  CHECK(validations == 2);  // at iteration 3 (before stopping) and 6
}

TEST_CASE("training: another recipe's checkpoint, a corrupt checkpoint and an occupied --out are refused by name") {
  TempDir dir;
  const std::string data = tiny_dataset(dir.path());
  std::ostringstream console;
  TrainConfig config = tiny_train_config(data, dir / "run");
  config.stop_after = 2;
  train(config, console);
  const std::string checkpoint = checkpoint_path(dir / "run", 2);

  check_error_mentions([&] { train(config, console); }, {"--out", "run", "--resume"});

  TrainConfig other = config;
  other.start = StartFrom::LatestCheckpoint;
  other.lr = 0.5;
  check_error_mentions([&] { train(other, console); }, {checkpoint, "another recipe", "lr: 0.02"});

  std::vector<char> bytes = read_bytes(checkpoint);
  bytes.resize(bytes.size() / 2);
  write_bytes(checkpoint, bytes);
  TrainConfig resume = config;
  resume.start = StartFrom::LatestCheckpoint;
  check_error_mentions([&] { train(resume, console); }, {checkpoint, "truncated"});
}

// A truncated image in the training root: found before the run writes anything, named, and once it
// is repaired the same --out starts with no cleaning up.
TEST_CASE("training: a truncated image stops the start before anything is written, and the rerun starts") {
  TempDir dir;
  const std::string data = tiny_dataset(dir.path());
  const StreetHazards training(data, Split::Training);
  const std::string victim = training.paths(3).image;
  const std::vector<char> whole = read_bytes(victim);
  write_bytes(victim, std::vector<char>(whole.begin(), whole.begin() + std::ptrdiff_t(whole.size() / 2)));
  std::ostringstream console;
  TrainConfig config = tiny_train_config(data, dir / "run");
  config.iterations = 2;
  check_error_mentions([&] { train(config, console); }, {victim, "truncated"});
  CHECK_FALSE(fs::exists(fs::path(dir / "run") / "metrics.jsonl"));
  write_bytes(victim, whole);
  CHECK(train(config, console).iteration == 2);
}

// A learning rate of 1e9 overflows within a few iterations. The error names the iteration; every
// checkpoint written before it is complete and finite (the training state is checked after each step, so
// an overflow in the update is caught before it could be saved). Without any checkpoint, the
// failed run's metrics log does not block a fresh start in the same --out.
TEST_CASE("training: divergence stops the run naming the iteration, keeping the checkpoints before it") {
  TempDir dir;
  const std::string data = tiny_dataset(dir.path());
  std::ostringstream console;
  TrainConfig config = tiny_train_config(data, dir / "run");
  config.lr = 1e9;
  config.iterations = 40;
  config.checkpoint_every = 1;
  config.val_every = 0;
  check_error_mentions([&] { train(config, console); }, {"training diverged at iteration", "--lr"});
  const std::vector<std::int64_t> done = complete_checkpoints(dir / "run");
  REQUIRE_FALSE(done.empty());
  const Checkpoint last = read_checkpoint(checkpoint_path(dir / "run", done.back()));
  std::vector<Tensor> tensors;
  for (const NamedTensor& named : last.tensors) tensors.push_back(named.value);
  CHECK(tensors_with_nonfinite(tensors).empty());

  TrainConfig early = config;
  early.out = dir / "early";
  early.checkpoint_every = 100;
  check_error_mentions([&] { train(early, console); }, {"training diverged", "no checkpoint was written yet"});
  REQUIRE(fs::exists(fs::path(dir / "early") / "metrics.jsonl"));
  early.lr = 0.02;
  early.iterations = 2;
  std::ostringstream rerun;
  CHECK(train(early, rerun).iteration == 2);
  CHECK(rerun.str().find("replacing the metrics log") != std::string::npos);
}

TEST_CASE("init: matching tensors are copied, the rest kept and reported, momentum never taken") {
  const Tensor a = counting_tensor({2, 2}, 1.0f), momentum = counting_tensor({2, 2}, 9.0f);
  const Checkpoint file{3, {}, {{"a", a}, {"momentum.a", momentum}, {"extra", counting_tensor({1}, 0.0f)}}};
  Tensor dest_a = Tensor::zeros({2, 2}), dest_b = Tensor::zeros({3});
  const PartialRestore restore = restore_matching_tensors(file, {{"a", dest_a}, {"b", dest_b}}, "file.bin");
  CHECK(dest_a.to_vector<float>() == a.to_vector<float>());
  CHECK(dest_b.to_vector<float>() == std::vector<float>(3, 0.0f));
  CHECK(restore.loaded == std::vector<std::string>{"a"});
  CHECK(restore.kept == std::vector<std::string>{"b"});
  CHECK(restore.unused == std::vector<std::string>{"extra"});
  Tensor wrong = Tensor::zeros({4});
  check_error_mentions([&] { restore_matching_tensors(file, {{"a", wrong}}, "file.bin"); }, {"file.bin", "a", "[2,2]"});
}

// A run started from another run's checkpoint: one of another classifier (the linear one has a
// bias the cosine classifier lacks) and one of another width (a shape error naming the tensor).
TEST_CASE("training: --init starts from a checkpoint's tensors and says what it took") {
  TempDir dir;
  const std::string data = tiny_dataset(dir.path());
  std::ostringstream console;
  TrainConfig source = tiny_train_config(data, dir / "source");
  source.iterations = 2;
  source.model.classifier = ClassifierKind::Linear;
  train(source, console);
  const std::string weights = checkpoint_path(dir / "source", 2);

  TrainConfig started = tiny_train_config(data, dir / "started");
  started.iterations = 1;
  started.init = weights;
  std::ostringstream log;
  CHECK(train(started, log).iteration == 1);
  CHECK(log.str().find("init: ") != std::string::npos);
  CHECK(log.str().find("of the file unused (cls.cls.bias") != std::string::npos);

  TrainConfig wider = tiny_train_config(data, dir / "wider");
  wider.model.head_channels = 6;
  wider.init = weights;
  check_error_mentions([&] { train(wider, console); }, {weights, "in the file", "in the model"});
}
