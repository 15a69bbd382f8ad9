// bench_kernels: every op of a PAnS training step (ResNet-50-D8 + PSP, docs/method.md#3-model) at
// the layer shapes of the network, pans' CUDA kernels (through the public ops of kernels/*.h, as
// training calls them) against cuDNN/cuBLAS where the library has the op, with the protocol of
// docs/benchmarks.md#protocol. See bench/gpu_bench.h for the timing, bench/rows.h for what
// each row counts, bench/layer_shapes.h for the network walk.
//
//   bench_kernels --dry-run                    the rows, their FLOPs, minimal bytes and the native
//                                              algorithm, without a GPU (CI runs this)
//   bench_kernels --json results.json          measure everything; non-zero exit on any failure
//   options: --batch-config 2x450|8x512x1024|all   --ops conv,iabn,...|all   --dtypes f32,bf16|all
//            --runs N (>= 50 by the protocol)  --warmup N  --filter TEXT  --device N
//            --cudnn-search find|heuristic
//
// Exit status: 0 when every row ran and every cross-check passed; 1 when a native op failed, a
// cross-check against the library failed or the device could not be measured; 2 for a bad command
// line or a build that cannot measure. A missing library baseline is a warning, not a failure.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/environment.h"
#include "bench/layer_shapes.h"
#include "bench/rows.h"
#include "tensor/error.h"

#ifdef PANS_BENCH_GPU
#include "bench/gpu_bench.h"
#endif

namespace {

using nlohmann::json;
using namespace pans;
using namespace pans::bench;

struct Options {
  bool dry_run = false;
  std::string json_path;
  std::string batch_configs = "all";
  std::string ops = "all";
  std::string dtypes = "all";
  int runs = 50;
  int warmup = 10;
  std::string filter;
  int device = 0;
  std::string cudnn_search = "find";
};

json conv_json(const Conv2dGeometry& g) {
  return {{"n", g.batch},           {"h", g.in_height},     {"w", g.in_width},    {"cin", g.in_channels},
          {"cout", g.out_channels}, {"k", g.kernel_height}, {"stride", g.stride}, {"pad", g.padding},
          {"dilation", g.dilation}, {"ho", g.out_height},   {"wo", g.out_width}};
}

json row_json(const Row& row) {
  json r = {{"id", row.id},
            {"batch_config", row.config.name},
            {"op", op_name(row.op)},
            {"pass", pass_name(row.pass)},
            {"dtype", dtype_short_name(row.dtype)},
            {"layer", row.group.name},
            {"layers", row.group.layers},
            {"count_per_step", row.group.count()},
            {"shape_text", row.shape_text},
            {"flops", row.flops},
            {"bytes", row.bytes},
            {"bytes_model", row.bytes_model},
            {"bound", row.compute_bound ? "compute" : "memory"},
            {"native_op", row.native},
            {"library_op", row.library.empty() ? json(nullptr) : json(row.library)}};
  if (row.op == Op::Conv)
    r["shape"] = conv_json(row.conv);
  else if (row.op != Op::Sgd)
    r["shape"] = {{"n", row.shape.n}, {"h", row.shape.h}, {"w", row.shape.w}, {"c", row.shape.c}};
  if (row.out_height > 0) r["shape"]["out_h"] = row.out_height, r["shape"]["out_w"] = row.out_width;
  if (!row.concat_inputs.empty()) r["shape"]["inputs_c"] = row.concat_inputs;
  if (row.op == Op::Iabn) r["shape"]["activation"] = row.leaky ? "leaky_relu_0.01" : "identity";
  if (row.op == Op::CosineHead) r["shape"]["classes"] = row.classes;
  if (row.op == Op::Sgd) r["shape"] = {{"tensors", row.parameters.size()}};
  return r;
}

// Per image: the forward MACs and the training FLOPs as docs/benchmarks.md#flop-count counts them
// (6 x MACs: forward, input gradient, weight gradient), and as a step runs them (no stem input
// gradient).
json network_json(const NetworkShapes& net) {
  const double n = double(net.config.batch);
  double run_flops = 0;
  int layers = 0;
  for (const ConvLayer& c : net.convs) {
    const Conv2dGeometry& g = c.g;
    const double flops = 2.0 * double(g.batch * g.out_height * g.out_width) * double(g.out_channels) *
                         double(g.kernel_height * g.kernel_width * g.in_channels);
    run_flops += double(c.count()) * flops * (c.needs_input_grad ? 3 : 2);
    layers += c.count();
  }
  run_flops += 6 * net.classifier_macs();
  const NetworkShapes reference = network_shapes(net.config, 256);
  return {{"batch_config", net.config.name},
          {"batch", net.config.batch},
          {"height", net.config.height},
          {"width", net.config.width},
          {"conv_layers", layers},
          {"distinct_conv_shapes", net.convs.size()},
          {"parameter_tensors", net.parameters.size()},
          {"parameters", net.parameter_count()},
          {"conv_fwd_gmac_per_image", net.conv_macs() / n / 1e9},
          {"classifier_fwd_gmac_per_image", net.classifier_macs() / n / 1e9},
          {"train_tflop_per_image_6x_macs", 6 * (net.conv_macs() + net.classifier_macs()) / n / 1e12},
          {"train_tflop_per_image_as_run", run_flops / n / 1e12},
          {"deepsup_conv", "1024->" + std::to_string(net.deepsup_channels) + " (method.md section 3)"},
          {"perf_md_check",
           {{"deepsup_conv", "1024->256 (perf_flops.py)"},
            {"train_tflop_per_image_6x_macs", 6 * (reference.conv_macs() + reference.classifier_macs()) / n / 1e12},
            {"parameters_convs_and_classifiers_only", [&] {
               std::int64_t total = 0;
               for (const ParameterTensor& p : reference.parameters)
                 if (p.shape.size() > 1) total += p.elements();
               return total;
             }()}}}};
}

void print_network(const json& net) {
  std::printf("\n== %s: batch %lld of %lldx%lld ==\n", net["batch_config"].get<std::string>().c_str(),
              (long long)net["batch"].get<std::int64_t>(), (long long)net["height"].get<std::int64_t>(),
              (long long)net["width"].get<std::int64_t>());
  std::printf("network: %d conv layers in %d distinct shapes; %d parameter tensors, %.2f M parameters\n",
              net["conv_layers"].get<int>(), net["distinct_conv_shapes"].get<int>(),
              net["parameter_tensors"].get<int>(), net["parameters"].get<double>() / 1e6);
  std::printf("forward per image: convs %.1f GMAC + classifiers %.2f GMAC\n",
              net["conv_fwd_gmac_per_image"].get<double>(), net["classifier_fwd_gmac_per_image"].get<double>());
  std::printf("train per image (6 x forward MACs, perf.md section 4): %.3f TFLOP with the deep-supervision conv %s\n",
              net["train_tflop_per_image_6x_macs"].get<double>(), net["deepsup_conv"].get<std::string>().c_str());
  std::printf("  the same count with it %s: %.3f TFLOP (perf.md: 0.888 at 2x450, 2.240 at 8x512x1024)\n",
              net["perf_md_check"]["deepsup_conv"].get<std::string>().c_str(),
              net["perf_md_check"]["train_tflop_per_image_6x_macs"].get<double>());
  std::printf("  as a step runs it (no input gradient for the stem): %.3f TFLOP\n",
              net["train_tflop_per_image_as_run"].get<double>());
}

void print_rows(const std::vector<Row>& rows) {
  std::printf("%-58s %5s %10s %9s  %-45s %s\n", "row", "count", "GFLOP", "MB", "shape", "native | library");
  for (const Row& row : rows)
    std::printf("%-58s %5d %10.3f %9.2f  %-45s %s | %s\n", row.id.c_str(), row.group.count(), row.flops / 1e9,
                row.bytes / 1e6, row.shape_text.c_str(), row.native.c_str(),
                row.library.empty() ? "-" : row.library.c_str());
}

// Per (config, op, pass, dtype): the step's total FLOPs and bytes (count x per-call).
void print_totals(const std::vector<Row>& rows) {
  std::vector<std::pair<std::string, std::pair<double, double>>> totals;
  for (const Row& row : rows) {
    const std::string key =
        row.config.name + "/" + op_name(row.op) + "/" + pass_name(row.pass) + "/" + dtype_short_name(row.dtype);
    auto found = std::find_if(totals.begin(), totals.end(), [&](const auto& t) { return t.first == key; });
    if (found == totals.end()) {
      totals.push_back({key, {0, 0}});
      found = totals.end() - 1;
    }
    found->second.first += row.group.count() * row.flops;
    found->second.second += row.group.count() * row.bytes;
  }
  std::printf("\nper training step (sum of count x row):\n%-40s %12s %12s\n", "config/op/pass/dtype", "GFLOP", "GB");
  for (const auto& [key, value] : totals)
    std::printf("%-40s %12.2f %12.3f\n", key.c_str(), value.first / 1e9, value.second / 1e9);
}

void write_json_atomically(const std::string& path, const json& document) {
  const std::string temporary = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(temporary);
    PANS_CHECK(out.good(), "bench_kernels: cannot write ", temporary);
    out << document.dump(1) << "\n";
    out.close();
    PANS_CHECK(out.good(), "bench_kernels: writing ", temporary, " failed");
  }
  PANS_CHECK(std::rename(temporary.c_str(), path.c_str()) == 0, "bench_kernels: cannot rename ", temporary, " to ",
             path);
}

#ifdef PANS_BENCH_GPU
void print_progress(const std::string& line) {
  std::fprintf(stderr, "bench_kernels: %s\n", line.c_str());
  std::fflush(stderr);
}
#endif

int run(const Options& options) {
  const std::vector<BatchConfig> configs = parse_batch_configs(options.batch_configs);
  const std::vector<Op> ops = parse_ops(options.ops);
  const std::vector<DType> dtypes = parse_dtypes(options.dtypes);
  PANS_CHECK(options.cudnn_search == "find" || options.cudnn_search == "heuristic", "--cudnn-search ",
             options.cudnn_search, ": expected find or heuristic");
  PANS_CHECK(options.runs >= 1 && options.warmup >= 0, "--runs must be >= 1 and --warmup >= 0");

  std::vector<NetworkShapes> networks;
  json document = {{"schema", "pans.bench_kernels/1"},
                   {"dry_run", options.dry_run},
                   {"timestamp_utc", utc_now()},
                   {"commit", commit_json()}};
  for (const BatchConfig& config : configs) {
    networks.push_back(network_shapes(config));
    document["networks"].push_back(network_json(networks.back()));
  }
  std::vector<Row> rows;
  for (Row& row : make_rows(networks, ops, dtypes))
    if (options.filter.empty() || row.id.find(options.filter) != std::string::npos) rows.push_back(row);

  document["settings"] = {{"batch_configs", options.batch_configs},
                          {"ops", options.ops},
                          {"dtypes", options.dtypes},
                          {"filter", options.filter},
                          {"runs", options.runs},
                          {"warmup", options.warmup},
                          {"interleaving", "native, library, native, library, ...; an L2 flush before each"},
                          {"cudnn_search", options.cudnn_search},
                          {"cudnn_math", "CUDNN_TENSOR_OP_MATH: float32 convolutions may use TF32 tensor cores"},
                          {"native_selection",
                           "the native side runs pans' kernels: the benchmark never reads PANS_CONV or PANS_BN, "
                           "and runs with the default implementations (config/implementations.h) but for "
                           "--cudnn-search"}};

  if (options.dry_run) {
    std::printf("bench_kernels --dry-run: %zu rows (nothing is run; no GPU needed)\n", rows.size());
    for (const json& net : document["networks"]) print_network(net);
    std::printf("\n");
    print_rows(rows);
    print_totals(rows);
    for (const Row& row : rows) document["rows"].push_back(row_json(row));
    if (!options.json_path.empty()) write_json_atomically(options.json_path, document);
    return 0;
  }
  if (options.runs < 50)
    std::fprintf(stderr, "bench_kernels: warning: --runs %d is below the protocol's 50 (perf.md section 8.1)\n",
                 options.runs);

#ifdef PANS_BENCH_GPU
  GpuOptions gpu;
  gpu.device = options.device;
  gpu.runs = options.runs;
  gpu.warmup = options.warmup;
  gpu.cudnn_search = options.cudnn_search;
  int status = 0;
  try {
    GpuResults results = run_gpu_bench(rows, gpu, print_progress);
    document["device"] = results.environment;
    document["calibration"] = results.calibration;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      json row = row_json(rows[i]);
      row.update(results.rows[i]);
      document["rows"].push_back(row);
    }
    if (!results.error.empty()) document["error"] = results.error;
    document["failures"] = results.failures;
    document["warnings"] = results.warnings;
    std::fprintf(stderr, "bench_kernels: %zu rows, %d failed, %d without their library baseline\n", rows.size(),
                 results.failures, results.warnings);
    status = results.failures == 0 ? 0 : 1;
  } catch (const std::exception& error) {
    document["error"] = error.what();
    std::fprintf(stderr, "bench_kernels: %s\n", error.what());
    status = 1;
  }
  if (!options.json_path.empty()) write_json_atomically(options.json_path, document);
  return status;
#else
  std::fprintf(stderr,
               "bench_kernels: this build cannot measure (it needs a native CUDA build with cuDNN); "
               "only --dry-run works here\n");
  return 2;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"pans kernel benchmark: native CUDA ops against cuDNN/cuBLAS at the layer shapes of PAnS"};
  app.add_flag("--dry-run", options.dry_run, "list the rows (shapes, FLOPs, minimal bytes, algorithms); no GPU");
  app.add_option("--json", options.json_path, "write the results here (atomically: a temporary file, then rename)");
  app.add_option("--batch-config", options.batch_configs, "2x450, 8x512x1024 or all")->capture_default_str();
  app.add_option("--ops", options.ops,
                 "comma-separated ops or all: conv,iabn,residual,maxpool,adaptive_pool,"
                 "resize,concat,dropout,cosine_head,cross_entropy,sgd")
      ->capture_default_str();
  app.add_option("--dtypes", options.dtypes, "f32, bf16 or all")->capture_default_str();
  app.add_option("--runs", options.runs, "timed runs per side and row (the protocol asks for >= 50)")
      ->capture_default_str();
  app.add_option("--warmup", options.warmup, "untimed runs per side and row first")->capture_default_str();
  app.add_option("--filter", options.filter, "only the rows whose id contains this text");
  app.add_option("--device", options.device, "CUDA device index")->capture_default_str();
  app.add_option("--cudnn-search", options.cudnn_search,
                 "find (cudnnFind: times the candidates, like cudnn.benchmark) or heuristic")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : 2;
  }
  try {
    return run(options);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_kernels: %s\n", error.what());
    return 2;
  }
}
