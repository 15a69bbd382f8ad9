#include "bench/rows.h"

#include <sstream>

#include "tensor/error.h"

#ifdef PANS_BENCH_CONV2D_CUDA
#include "kernels/cuda/conv2d.h"
#endif

namespace pans::bench {

const std::vector<Op>& all_ops() {
  static const std::vector<Op> ops = {Op::Conv,         Op::Iabn,         Op::Residual, Op::MaxPool,
                                      Op::AdaptivePool, Op::Resize,       Op::Concat,   Op::Dropout,
                                      Op::CosineHead,   Op::CrossEntropy, Op::Sgd};
  return ops;
}

const char* op_name(Op op) {
  switch (op) {
    case Op::Conv:
      return "conv";
    case Op::Iabn:
      return "iabn";
    case Op::Residual:
      return "residual";
    case Op::MaxPool:
      return "maxpool";
    case Op::AdaptivePool:
      return "adaptive_pool";
    case Op::Resize:
      return "resize";
    case Op::Concat:
      return "concat";
    case Op::Dropout:
      return "dropout";
    case Op::CosineHead:
      return "cosine_head";
    case Op::CrossEntropy:
      return "cross_entropy";
    case Op::Sgd:
      return "sgd";
  }
  return "?";
}

namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream list(text);
  std::string item;
  while (std::getline(list, item, ','))
    if (!item.empty()) items.push_back(item);
  return items;
}

}  // namespace

std::vector<Op> parse_ops(const std::string& text) {
  std::vector<Op> ops;
  for (const std::string& item : split_list(text)) {
    if (item == "all") return all_ops();
    bool known = false;
    for (Op op : all_ops())
      if (item == op_name(op)) {
        ops.push_back(op);
        known = true;
      }
    if (!known) {
      std::string names;
      for (Op op : all_ops()) names += std::string(" ") + op_name(op);
      PANS_FAIL("--ops ", item, ": expected all or a comma-separated list of:", names);
    }
  }
  PANS_CHECK(!ops.empty(), "--ops is empty");
  return ops;
}

std::vector<DType> parse_dtypes(const std::string& text) {
  std::vector<DType> dtypes;
  for (const std::string& item : split_list(text)) {
    if (item == "all") return {DType::F32, DType::BF16};
    if (item == "f32")
      dtypes.push_back(DType::F32);
    else if (item == "bf16")
      dtypes.push_back(DType::BF16);
    else
      PANS_FAIL("--dtypes ", item, ": expected f32, bf16 or all");
  }
  PANS_CHECK(!dtypes.empty(), "--dtypes is empty");
  return dtypes;
}

const char* dtype_short_name(DType dtype) { return dtype == DType::BF16 ? "bf16" : dtype == DType::F32 ? "f32" : "?"; }

const char* pass_name(Pass pass) {
  switch (pass) {
    case Pass::Forward:
      return "fwd";
    case Pass::Backward:
      return "bwd";
    case Pass::BackwardInput:
      return "dgrad";
    case Pass::BackwardWeight:
      return "wgrad";
    case Pass::Fused:
      return "fused";
    case Pass::Step:
      return "step";
  }
  return "?";
}

std::string native_conv_algo(const Conv2dGeometry& g, DType dtype) {
  const std::size_t element_bytes = dtype_size(dtype);
#ifdef PANS_BENCH_CONV2D_CUDA
  const char* misfit = cuda::conv2d_tensor_core_misfit(g, element_bytes, {});
  return misfit == nullptr ? "implicit_gemm_tensor_core" : std::string("simt (") + misfit + ")";
#else
  const std::int64_t chunk = 16 / std::int64_t(element_bytes);
  const bool fits =
      g.in_channels > 0 && g.out_channels > 0 && g.in_channels % chunk == 0 && g.out_channels % chunk == 0;
  return std::string(fits ? "implicit_gemm_tensor_core" : "simt") +
         " (predicted: this build has no CUDA conv2d kernels to ask)";
#endif
}

namespace {

std::string dims(const ActivationShape& s) {
  return std::to_string(s.n) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w) + "x" + std::to_string(s.c);
}

std::string conv_text(const Conv2dGeometry& g) {
  std::ostringstream text;
  text << g.batch << "x" << g.in_height << "x" << g.in_width << "x" << g.in_channels << " -> " << g.out_height << "x"
       << g.out_width << "x" << g.out_channels << ", " << g.kernel_height << "x" << g.kernel_width << "/" << g.stride
       << " pad " << g.padding << " dil " << g.dilation;
  return text.str();
}

// Appends rows to `rows`; each row gets its id from the fields already set.
class RowMaker {
 public:
  RowMaker(const NetworkShapes& net, std::vector<Row>& rows) : net_(net), rows_(rows) {}

  Row& add(Op op, Pass pass, DType dtype, const LayerGroup& group) {
    Row row;
    row.config = net_.config;
    row.op = op;
    row.pass = pass;
    row.dtype = dtype;
    row.group = group;
    row.id =
        net_.config.name + "/" + op_name(op) + "/" + pass_name(pass) + "/" + dtype_short_name(dtype) + "/" + group.name;
    rows_.push_back(row);
    return rows_.back();
  }

 private:
  const NetworkShapes& net_;
  std::vector<Row>& rows_;
};

bool has_bf16_kernels(Op op) {
  // The CUDA ops with bfloat16 activation storage (float32 beside them for parameters); the
  // cosine head, cross-entropy and SGD are float32 only.
  return op != Op::CosineHead && op != Op::CrossEntropy && op != Op::Sgd;
}

void conv_rows(const NetworkShapes& net, DType dtype, RowMaker& maker) {
  const double es = double(dtype_size(dtype));
  for (const ConvLayer& layer : net.convs) {
    const Conv2dGeometry& g = layer.g;
    const double pixels = double(g.batch * g.out_height * g.out_width);
    const double depth = double(g.kernel_height * g.kernel_width * g.in_channels);
    const double flops = 2.0 * pixels * double(g.out_channels) * depth;
    const double x = double(g.batch * g.in_height * g.in_width * g.in_channels);
    const double y = pixels * double(g.out_channels);
    const double w = double(g.out_channels) * depth;
    for (Pass pass : {Pass::Forward, Pass::BackwardInput, Pass::BackwardWeight}) {
      if (pass == Pass::BackwardInput && !layer.needs_input_grad) continue;
      Row& row = maker.add(Op::Conv, pass, dtype, layer);
      row.conv = g;
      row.shape_text = conv_text(g);
      row.flops = flops;
      row.compute_bound = true;
      row.native = native_conv_algo(g, dtype);
      row.library = "cudnn";
      if (pass == Pass::Forward) {
        row.bytes = es * (x + w + y);
        row.bytes_model = "read x, w; write y";
      } else if (pass == Pass::BackwardInput) {
        row.bytes = es * (y + w + x);
        row.bytes_model = "read dy, w; write dx";
      } else {
        row.bytes = es * (y + x) + 2 * 4 * w;
        row.bytes_model = "read dy, x; read and write float32 dw";
      }
    }
  }
}

void iabn_rows(const NetworkShapes& net, DType dtype, RowMaker& maker) {
  const double es = double(dtype_size(dtype));
  for (const IabnLayer& layer : net.iabns) {
    const double e = double(layer.shape.elements());
    for (Pass pass : {Pass::Forward, Pass::Backward}) {
      Row& row = maker.add(Op::Iabn, pass, dtype, layer);
      row.shape = layer.shape;
      row.leaky = layer.leaky;
      row.shape_text = dims(layer.shape) + (layer.leaky ? ", leaky ReLU 0.01" : ", identity");
      const std::string activation = layer.leaky ? " + leaky_relu" : "";
      if (pass == Pass::Forward) {
        row.bytes = 3 * es * e;
        row.bytes_model = "two-pass minimum: read x for the statistics, read x and write z";
        row.native = "iabn_forward_train";
        row.library = "cudnnBatchNormalizationForwardTrainingEx" + activation;
      } else {
        row.bytes = 5 * es * e;
        row.bytes_model = "two-pass minimum: read z, dz for the sums, read z, dz and write dx";
        row.native = "iabn_backward";
        row.library = (layer.leaky ? "leaky_relu_backward + " : "") + std::string("cudnnBatchNormalizationBackwardEx");
      }
    }
  }
}

void elementwise_rows(Op op, const std::vector<ActivationLayer>& layers, DType dtype, RowMaker& maker,
                      const char* native_fwd, const char* native_bwd, const char* library) {
  const double es = double(dtype_size(dtype));
  for (const ActivationLayer& layer : layers) {
    const double e = double(layer.shape.elements());
    for (Pass pass : {Pass::Forward, Pass::Backward}) {
      Row& row = maker.add(op, pass, dtype, layer);
      row.shape = layer.shape;
      row.shape_text = dims(layer.shape);
      row.native = pass == Pass::Forward ? native_fwd : native_bwd;
      row.library = library;
      if (op == Op::Residual) {
        row.bytes = 3 * es * e;
        row.bytes_model = pass == Pass::Forward ? "read branch, shortcut; write out" : "read out, dout; write d";
      } else {
        row.bytes = 2 * es * e;
        row.bytes_model = pass == Pass::Forward ? "read x; write y (the per-channel mask is negligible)"
                                                : "read dy; write dx (the per-channel mask is negligible)";
      }
    }
  }
}

void max_pool_rows(const NetworkShapes& net, DType dtype, RowMaker& maker) {
  const double es = double(dtype_size(dtype));
  for (const ActivationLayer& layer : net.max_pools) {
    const std::int64_t oh = (layer.shape.h + 2 - 3) / 2 + 1, ow = (layer.shape.w + 2 - 3) / 2 + 1;
    const double in = double(layer.shape.elements()), out = double(layer.shape.n * oh * ow * layer.shape.c);
    for (Pass pass : {Pass::Forward, Pass::Backward}) {
      Row& row = maker.add(Op::MaxPool, pass, dtype, layer);
      row.shape = layer.shape;
      row.out_height = oh;
      row.out_width = ow;
      row.shape_text = dims(layer.shape) + " -> " + std::to_string(oh) + "x" + std::to_string(ow) + ", 3x3/2 pad 1";
      row.library = pass == Pass::Forward ? "cudnnPoolingForward" : "cudnnPoolingBackward";
      if (pass == Pass::Forward) {
        row.bytes = es * (in + out) + 4 * out;
        row.bytes_model = "read x; write y and int32 argmax";
        row.native = "max_pool2d_forward";
      } else {
        row.bytes = es * (out + in) + 4 * out;
        row.bytes_model = "read dy and int32 argmax; write dx";
        row.native = "max_pool2d_backward";
      }
    }
  }
}

void resample_rows(Op op, const std::vector<ResampleLayer>& layers, DType dtype, RowMaker& maker) {
  const double es = double(dtype_size(dtype));
  for (const ResampleLayer& layer : layers) {
    // The logits (13 classes) come out of the float32 cosine head: no bfloat16 row for them.
    if (dtype == DType::BF16 && layer.name.find("logits") != std::string::npos) continue;
    const double in = double(layer.input.elements());
    const double out = double(layer.input.n * layer.out_height * layer.out_width * layer.input.c);
    for (Pass pass : {Pass::Forward, Pass::Backward}) {
      Row& row = maker.add(op, pass, dtype, layer);
      row.shape = layer.input;
      row.out_height = layer.out_height;
      row.out_width = layer.out_width;
      row.shape_text =
          dims(layer.input) + " -> " + std::to_string(layer.out_height) + "x" + std::to_string(layer.out_width);
      row.bytes = es * (in + out);
      row.bytes_model = pass == Pass::Forward ? "read x; write y" : "read dy; write dx";
      if (op == Op::AdaptivePool)
        row.native = pass == Pass::Forward ? "adaptive_avg_pool2d_forward" : "adaptive_avg_pool2d_backward";
      else
        row.native = pass == Pass::Forward ? "resize_bilinear_forward" : "resize_bilinear_backward";
    }
  }
}

void concat_rows(const NetworkShapes& net, DType dtype, RowMaker& maker) {
  const double es = double(dtype_size(dtype));
  for (const ActivationLayer& layer : net.concats) {
    for (Pass pass : {Pass::Forward, Pass::Backward}) {
      Row& row = maker.add(Op::Concat, pass, dtype, layer);
      row.shape = layer.shape;
      row.concat_inputs = net.concat_inputs;
      std::string channels;
      for (std::int64_t c : net.concat_inputs) channels += (channels.empty() ? "" : "+") + std::to_string(c);
      row.shape_text = std::to_string(layer.shape.n) + "x" + std::to_string(layer.shape.h) + "x" +
                       std::to_string(layer.shape.w) + "x(" + channels + ")";
      row.bytes = 2 * es * double(layer.shape.elements());
      row.bytes_model = pass == Pass::Forward ? "read the inputs; write out" : "read dout; write the input gradients";
      row.native = pass == Pass::Forward ? "concat_channels" : "split_channels";
      row.library = "cudaMemcpy2DAsync per input";
    }
  }
}

void cosine_head_rows(const NetworkShapes& net, RowMaker& maker) {
  for (const ClassifierLayer& layer : net.classifiers) {
    const double pixels = double(layer.features.n * layer.features.h * layer.features.w);
    const double c = double(layer.features.c), k = double(layer.classes);
    for (Pass pass : {Pass::Forward, Pass::Backward}) {
      Row& row = maker.add(Op::CosineHead, pass, DType::F32, layer);
      row.shape = layer.features;
      row.classes = layer.classes;
      row.shape_text = dims(layer.features) + " -> " + std::to_string(layer.classes) + " classes";
      if (pass == Pass::Forward) {
        row.flops = pixels * (2 * c * k + 3 * c);
        row.bytes = 4 * (pixels * c + k * c + pixels * k);
        row.bytes_model = "read f, w; write logits";
        row.native = "cosine_classifier_forward";
      } else {
        row.flops = pixels * (4 * c * k + 6 * c);
        row.bytes = 4 * (pixels * k + 2 * pixels * c + 3 * k * c);
        row.bytes_model = "read dlogits, f, w; write df; read and write dw";
        row.native = "cosine_classifier_backward";
      }
    }
  }
}

void cross_entropy_rows(const NetworkShapes& net, RowMaker& maker) {
  for (const ActivationLayer& layer : net.cross_entropies) {
    Row& row = maker.add(Op::CrossEntropy, Pass::Fused, DType::F32, layer);
    row.shape = layer.shape;
    row.shape_text = dims(layer.shape) + " logits, uint8 labels";
    const double pixels = double(layer.shape.n * layer.shape.h * layer.shape.w);
    row.bytes = 4 * 2 * double(layer.shape.elements()) + pixels;
    row.bytes_model = "read logits and labels; write dlogits (the loss is one number)";
    row.native = "softmax_cross_entropy (returns the loss: synchronises)";
  }
}

void sgd_rows(const NetworkShapes& net, RowMaker& maker) {
  LayerGroup group;
  group.name = "all_parameters";
  group.layers = {"all_parameters"};
  Row& row = maker.add(Op::Sgd, Pass::Step, DType::F32, group);
  for (const ParameterTensor& p : net.parameters) row.parameters.push_back(p.shape);
  const double count = double(net.parameter_count());
  row.shape_text = std::to_string(net.parameters.size()) + " tensors, " + std::to_string(net.parameter_count()) +
                   " float32 parameters";
  row.bytes = 5 * 4 * count;
  row.bytes_model = "read param, grad, momentum; write param, momentum";
  row.native = "sgd_nesterov_step_all (one fused launch)";
}

}  // namespace

std::vector<Row> make_rows(const std::vector<NetworkShapes>& networks, const std::vector<Op>& ops,
                           const std::vector<DType>& dtypes) {
  std::vector<Row> rows;
  for (const NetworkShapes& net : networks) {
    RowMaker maker(net, rows);
    for (Op op : ops) {
      for (DType dtype : dtypes) {
        if (dtype == DType::BF16 && !has_bf16_kernels(op)) continue;
        switch (op) {
          case Op::Conv:
            conv_rows(net, dtype, maker);
            break;
          case Op::Iabn:
            iabn_rows(net, dtype, maker);
            break;
          case Op::Residual:
            elementwise_rows(op, net.residuals, dtype, maker, "residual_add_leaky_forward",
                             "residual_add_leaky_backward", "");
            break;
          case Op::MaxPool:
            max_pool_rows(net, dtype, maker);
            break;
          case Op::AdaptivePool:
            resample_rows(op, net.adaptive_pools, dtype, maker);
            break;
          case Op::Resize:
            resample_rows(op, net.resizes, dtype, maker);
            break;
          case Op::Concat:
            concat_rows(net, dtype, maker);
            break;
          case Op::Dropout:
            elementwise_rows(op, net.dropouts, dtype, maker, "dropout2d_forward", "dropout2d_backward", "");
            break;
          case Op::CosineHead:
            cosine_head_rows(net, maker);
            break;
          case Op::CrossEntropy:
            cross_entropy_rows(net, maker);
            break;
          case Op::Sgd:
            sgd_rows(net, maker);
            break;
        }
      }
    }
  }
  return rows;
}

}  // namespace pans::bench
