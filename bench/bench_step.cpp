// bench_step: pans' PAnS training step and its forward, on synthetic data, with the protocol of
// the PyTorch peer (bench/torch_peer.py, docs/benchmarks.md#protocol), so that the two can be
// compared number for number: --warmup untimed steps, then --runs timed steps reported as median,
// p10, p90 (linear interpolation, as torch.quantile), images/s of the median, and the host or
// device allocator's peak over the timed steps. The step is train/trainer.cpp's without the data
// loader and the finiteness checks: zero_grad, forward (Train mode), CE(main) + 0.4 x CE(deep
// supervision) with ignore 255, backward, Nesterov SGD (momentum 0.9, weight decay 1e-4) at the
// poly learning rate. The forward phase is the step's forward and losses, no backward.
//
// The input is drawn once from a fixed seed: standard normal images {N,H,W,3} and labels in 0..12
// with about 5 % set to 255, as the peer's (not the same values: only the costs matter here).
//
// On the CPU the process's system time and minor page faults over the timed steps are recorded too
// (getrusage): a step that allocates nothing from the OS after warm-up shows neither.
//
// Usage:
//   bench_step --device cpu --preset small --crop 192 --threads 2 --json OUT.json
//   bench_step --device cuda --batch 2 --crop 450
// Exit status: 0 success; 1 a loss was not finite or the device failed; 2 bad command line.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/environment.h"
#include "config/environment.h"
#include "kernels/configuration.h"
#include "kernels/cross_entropy.h"
#include "models/pspnet.h"
#include "optim/poly_lr.h"
#include "optim/sgd.h"
#include "tensor/allocator.h"
#include "tensor/cuda_runtime.h"
#include "tensor/error.h"

namespace pans {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// The recipe's constants, as train/train_config.cpp and the peer set them.
constexpr double kBaseLr = 0.007, kMomentum = 0.9, kWeightDecay = 1e-4, kLrPower = 0.9;
constexpr double kDeepSupervisionWeight = 0.4;
constexpr int kClasses = 13;
constexpr std::uint64_t kSeed = 42;

struct Options {
  std::string device = "cpu";
  std::string preset = "small";
  std::string classifier = "cosine";
  int batch = 2;
  int crop = 192;
  std::optional<int> threads;
  int warmup = 10;
  int runs = 50;
  std::string json_path;
};

struct Usage {
  double system_seconds = 0, user_seconds = 0;
  long minor_faults = 0;
};

Usage process_usage() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return {double(usage.ru_stime.tv_sec) + 1e-6 * double(usage.ru_stime.tv_usec),
          double(usage.ru_utime.tv_sec) + 1e-6 * double(usage.ru_utime.tv_usec), usage.ru_minflt};
}

// torch.quantile's definition: linear interpolation between the two nearest ranks.
double percentile(std::vector<double> samples, double q) {
  std::sort(samples.begin(), samples.end());
  const double position = q * double(samples.size() - 1);
  const std::size_t below = std::size_t(std::floor(position));
  const std::size_t above = std::min(below + 1, samples.size() - 1);
  return samples[below] + (position - double(below)) * (samples[above] - samples[below]);
}

struct Batch {
  Tensor images, labels;
};

Batch synthetic_batch(const Options& options, Device device) {
  const std::int64_t n = options.batch, side = options.crop;
  std::mt19937_64 random(kSeed);
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> label(0, kClasses - 1);
  std::uniform_real_distribution<float> uniform;
  std::vector<float> images(std::size_t(n * side * side * 3));
  for (float& value : images) value = normal(random);
  std::vector<std::uint8_t> labels(std::size_t(n * side * side));
  for (std::uint8_t& value : labels) value = std::uint8_t(uniform(random) < 0.05f ? kIgnoreLabel : label(random));
  Batch batch{Tensor::from_vector(images, {n, side, side, 3}), Tensor::from_vector(labels, {n, side, side})};
  if (!device.is_cpu()) batch = {batch.images.to(device), batch.labels.to(device)};
  return batch;
}

class StepBench {
 public:
  StepBench(const Options& options, Device device)
      : options_(options),
        device_(device),
        batch_(synthetic_batch(options, device)),
        model_(config(options), {DType::F32, device, kSeed}),
        optimizer_(kMomentum, kWeightDecay),
        schedule_(kBaseLr, options.warmup + options.runs + 1, kLrPower) {
    for (const Parameter& p : model_.parameters()) optimizer_.add(p.value, p.grad);
  }

  // One recipe iteration; returns the total loss.
  double train_step() {
    model_.zero_grad();
    const PspNetOutput out = model_.forward(batch_.images, Mode::Train, std::uint64_t(iteration_));
    const auto [dmain, ddeep, loss] = losses(out);
    model_.backward(dmain, ddeep);
    optimizer_.step(schedule_.at(iteration_));
    ++iteration_;
    synchronize();
    return loss;
  }

  double forward() {
    const PspNetOutput out = model_.forward(batch_.images, Mode::Train, std::uint64_t(iteration_));
    const double loss = std::get<2>(losses(out));
    synchronize();
    return loss;
  }

  std::int64_t parameter_count() const { return model_.parameter_count(); }
  std::size_t parameter_tensors() const { return model_.parameters().size(); }

 private:
  static PspNetConfig config(const Options& options) {
    const ClassifierKind classifier = options.classifier == "linear" ? ClassifierKind::Linear : ClassifierKind::Cosine;
    return options.preset == "full" ? PspNetConfig::resnet50_d8(classifier) : PspNetConfig::small(classifier);
  }

  std::tuple<Tensor, Tensor, double> losses(const PspNetOutput& out) {
    Tensor dmain = Tensor::empty(out.logits.shape(), out.logits.dtype(), device_);
    Tensor ddeep = Tensor::empty(out.deep_supervision_logits.shape(), out.logits.dtype(), device_);
    const double loss = softmax_cross_entropy(out.logits, batch_.labels, dmain) +
                        softmax_cross_entropy(out.deep_supervision_logits, batch_.labels, ddeep, kIgnoreLabel,
                                              kDeepSupervisionWeight);
    return {dmain, ddeep, loss};
  }

  // The CUDA timeline's end of the step: a synchronous copy of one weight waits for every kernel
  // before it on the default stream (the SGD step's last one included). Nothing to wait for on the CPU.
  void synchronize() {
    if (device_.is_cpu()) return;
    float value;
    const Tensor& last = model_.parameters().back().value;
    copy_bytes(&value, Device::cpu(), last.raw_data(), device_, sizeof(value));
  }

  Options options_;
  Device device_;
  Batch batch_;
  PspNet model_;
  SgdOptimizer optimizer_;
  PolyLearningRate schedule_;
  std::int64_t iteration_ = 0;
};

json measure(const std::function<double()>& call, const Options& options, Device device, double& last_loss) {
  for (int i = 0; i < options.warmup; ++i) last_loss = call();
  Allocator& allocator = allocator_for(device);
  allocator.reset_peak();
  const Usage before = process_usage();
  std::vector<double> samples;
  for (int i = 0; i < options.runs; ++i) {
    const Clock::time_point start = Clock::now();
    last_loss = call();
    samples.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  const Usage after = process_usage();
  const double median = percentile(samples, 0.5);
  json summary = {{"median_ms", median},
                  {"p10_ms", percentile(samples, 0.1)},
                  {"p90_ms", percentile(samples, 0.9)},
                  {"min_ms", *std::min_element(samples.begin(), samples.end())},
                  {"max_ms", *std::max_element(samples.begin(), samples.end())},
                  {"images_per_second", 1e3 * options.batch / median},
                  {"peak_memory_allocated_bytes", allocator.stats().peak_bytes},
                  {"samples_ms", samples}};
  if (device.is_cpu()) {
    summary["user_seconds"] = after.user_seconds - before.user_seconds;
    summary["system_seconds"] = after.system_seconds - before.system_seconds;
    summary["minor_page_faults_per_step"] = double(after.minor_faults - before.minor_faults) / options.runs;
  }
  return summary;
}

void print_table(const json& record) {
  const json& s = record["settings"];
  std::printf("\npans %s preset, %s classifier, %lld parameters; batch %d x %d^2, f32, %s, %d threads\n",
              record["model"]["preset"].get<std::string>().c_str(),
              record["model"]["classifier"].get<std::string>().c_str(), record["model"]["parameters"].get<long long>(),
              s["batch"].get<int>(), s["crop"].get<int>(), s["device"].get<std::string>().c_str(),
              s["threads"].get<int>());
  std::printf("%-24s%11s%10s%10s%9s%10s%10s%10s\n", "phase", "median ms", "p10 ms", "p90 ms", "img/s", "peak MiB",
              "sys s", "faults/it");
  for (const auto& [phase, t] : record["timings"].items()) {
    const bool cpu = t.contains("system_seconds");
    std::printf("%-24s%11.2f%10.2f%10.2f%9.2f%10.0f", phase.c_str(), t["median_ms"].get<double>(),
                t["p10_ms"].get<double>(), t["p90_ms"].get<double>(), t["images_per_second"].get<double>(),
                double(t["peak_memory_allocated_bytes"].get<std::size_t>()) / (1 << 20));
    if (cpu)
      std::printf("%10.2f%10.0f", t["system_seconds"].get<double>(), t["minor_page_faults_per_step"].get<double>());
    std::printf("\n");
  }
}

int run(const Options& options) {
  const Device device = parse_device(options.device);
  const int threads = configure_kernels(app_implementations(options.threads));
  StepBench bench(options, device);
  double loss = 0;
  const json train = measure([&] { return bench.train_step(); }, options, device, loss);
  const json forward = measure([&] { return bench.forward(); }, options, device, loss);
  if (!std::isfinite(loss)) {
    std::fprintf(stderr, "bench_step: the last loss is %g\n", loss);
    return 1;
  }
  json record = {
      {"schema", "pans.bench_step/1"},
      {"timestamp_utc", bench::utc_now()},
      {"commit", bench::commit_json()},
      {"settings",
       {{"device", device.str()},
        {"batch", options.batch},
        {"crop", options.crop},
        {"dtype", "f32"},
        {"threads", threads},
        {"warmup", options.warmup},
        {"runs", options.runs},
        {"phases",
         {{"train_step", "zero_grad, forward, loss, backward, SGD step"},
          {"forward", "the train step's forward and loss (Train mode), no backward"}}},
        {"timer", "steady_clock per step, the CUDA step ending in a synchronous copy"},
        {"input", "synthetic: normal images, labels 0..12 with ~5% 255, made once on the device"}}},
      {"versions", {{"cpu_count", std::thread::hardware_concurrency()}}},
      {"model",
       {{"preset", options.preset},
        {"classifier", options.classifier},
        {"parameter_tensors", bench.parameter_tensors()},
        {"parameters", bench.parameter_count()}}},
      {"last_loss", loss},
      {"timings", {{"train_step", train}, {"forward", forward}}},
  };
  if (device.is_cuda()) record["versions"]["gpu"] = cuda_device_name(device.index);
  if (!options.json_path.empty()) {
    const std::string temporary = options.json_path + ".tmp";
    std::ofstream(temporary) << record.dump(1) << "\n";
    std::rename(temporary.c_str(), options.json_path.c_str());
  }
  print_table(record);
  if (!options.json_path.empty()) std::printf("wrote %s\n", options.json_path.c_str());
  return 0;
}

}  // namespace
}  // namespace pans

int main(int argc, char** argv) {
  pans::Options options;
  CLI::App app{"pans' PAnS training step and forward on synthetic data, timed as bench/torch_peer.py times PyTorch's"};
  app.add_option("--device", options.device, "cpu or cuda[:N] (default cpu)");
  app.add_option("--preset", options.preset, "full or small (default small)")->check(CLI::IsMember({"full", "small"}));
  app.add_option("--classifier", options.classifier, "cosine or linear (default cosine)")
      ->check(CLI::IsMember({"cosine", "linear"}));
  app.add_option("--batch", options.batch, "images per step, at least 2 (default 2)")->check(CLI::Range(2, 1 << 16));
  app.add_option("--crop", options.crop, "square crop side, at least 8 (default 192)")->check(CLI::Range(8, 1 << 16));
  app.add_option("--threads", options.threads, "CPU threads (default one per core)")->check(CLI::PositiveNumber);
  app.add_option("--warmup", options.warmup, "untimed steps first (default 10)")->check(CLI::PositiveNumber);
  app.add_option("--runs", options.runs, "timed steps (default 50)")->check(CLI::PositiveNumber);
  app.add_option("--json", options.json_path, "write settings and timings here");
  CLI11_PARSE(app, argc, argv);
  try {
    return pans::run(options);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_step: %s\n", error.what());
    return 1;
  }
}
