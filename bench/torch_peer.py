#!/usr/bin/env python3
"""The PyTorch speed peer of pans: our exact PAnS network, timed for one training step.

pans never uses PyTorch. This script rebuilds pans' network (models/, layers/) layer for layer in
PyTorch so that the two can be compared on the same device, batch, crop and precision, following
docs/benchmarks.md#protocol: channels_last, TF32 flags set explicitly and recorded,
cudnn.benchmark = True, warm-up steps, then timed steps (CUDA events on the GPU, perf_counter on
the CPU) reported as median, p10 and p90, plus the allocator's peak memory.

The network (docs/method.md#3-model; pans' PspNetConfig presets "full" and "small"):
  ResNet v1.5 with output stride 8 (dilation 2 in layer3, 4 in layer4, on every block), a PSPNet
  pyramid pooling head (bins 1, 2, 3, 6), deep supervision on layer3 (a 3x3 conv to the head's width), Dropout2d
  0.1, and a cosine (tau = 10) or linear classifier at 1/8 resolution, logits upsampled
  bilinearly to the crop. pans' InPlace-ABN becomes BatchNorm2d + LeakyReLU(0.01, inplace): the
  standard pair, which pans' PANS_BN=cudnn also computes. The only numerical difference is that
  iABN scales by |w| + eps where BatchNorm2d scales by w; with w initialised to 1 both are the same
  cost and nearly the same values.
The step (docs/method.md#4-training-recipe): zero_grad, forward, CE(ignore 255) + 0.4 x
deep-supervision CE, backward, Nesterov SGD (momentum 0.9, weight decay 1e-4) with the poly
learning rate.
The input is synthetic: normal-distributed images and labels in 0..12 with about 5 % set to 255,
made once on the device, so no data loading is timed.

Precisions: --dtype f32 runs everything in float32 (convolutions may use TF32 tensor cores when
--tf32 on, the default, as pans' float32 convolutions do). --dtype bf16 wraps the forward and the
loss in torch.autocast(dtype=bfloat16): parameters, gradients and the optimizer state stay float32
(master weights); autocast casts the inputs and weights of every convolution to bfloat16
(float32 accumulation), the activations between them are then bfloat16 (batch norm keeps float32
weights and statistics), and the cross-entropy runs in float32. The exact dtypes on the device
used are measured, per module type, and recorded under "autocast_output_dtypes".

Usage (from the repository root):
  python3 bench/torch_peer.py --device cuda --batch 2 --crop 450 --dtype f32 --json OUT.json
  python3 bench/torch_peer.py --device cpu --preset small --crop 192 --threads 2 --json OUT.json
  python3 bench/torch_peer.py --check --device cpu   # parameter counts against pans, one step; no timing
Exit status: 0 success; 1 a check failed (parameter count differs from pans, loss not finite);
2 bad command line (the message names the flag).
"""

import argparse
import contextlib
import json
import math
import os
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# pans' PspNetConfig presets (models/pspnet_config.cpp). Only widths and depths differ.
PRESETS = {
    "full": {"stem": 64, "widths": (64, 128, 256, 512), "blocks": (3, 4, 6, 3), "head": 512},
    "small": {"stem": 8, "widths": (8, 16, 32, 64), "blocks": (1, 1, 1, 1), "head": 64},
}
# pans' (parameter tensors, parameters) per preset and classifier, as PspNet::parameters() gives
# them; tests/test_model.cpp asserts the full and small cosine totals, and bench_kernels --dry-run
# prints "179 parameter tensors, 51.31 M parameters". The linear classifier adds a bias {13}.
PANS_PARAMETERS = {
    ("full", "cosine"): (179, 51_314_752),
    ("full", "linear"): (181, 51_314_778),
    ("small", "cosine"): (71, 565_000),
    ("small", "linear"): (73, 565_026),
}
CLASSES = 13
IGNORE_LABEL = 255
EXPANSION = 4                # a bottleneck's output has 4x its inner width
DILATIONS = (1, 1, 2, 4)     # layer1..layer4: output stride 8
PYRAMID_BINS = (1, 2, 3, 6)
DROPOUT = 0.1
COSINE_SCALE = 10.0          # tau, fixed
LEAKY_SLOPE = 0.01
DEEP_SUPERVISION_WEIGHT = 0.4
BASE_LR, MOMENTUM, WEIGHT_DECAY, LR_POWER = 0.007, 0.9, 1e-4, 0.9
SEED = 42


# ---------------------------------------------------------------------------------------------
# The network, module for module as models/*.cpp and layers/*.cpp build it.

def conv(in_channels, out_channels, kernel, stride=1, dilation=1):
    """A bias-free convolution with padding = dilation for 3x3, initialised as pans' Conv2d:
    normal with std sqrt(2 / (1 + 0.01^2) / fan_in), Kaiming for the leaky ReLU after it."""
    layer = nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=dilation * (kernel // 2),
                      dilation=dilation, bias=False)
    nn.init.kaiming_normal_(layer.weight, a=LEAKY_SLOPE, mode="fan_in", nonlinearity="leaky_relu")
    return layer


def bn_act(channels, leaky=True):
    """The peer of one InPlace-ABN: BatchNorm2d (eps 1e-5, momentum 0.1) then leaky ReLU 0.01, or
    the identity for a block's bn3 and proj_bn (the leaky ReLU follows the residual add)."""
    if not leaky:
        return nn.BatchNorm2d(channels)
    return nn.Sequential(nn.BatchNorm2d(channels), nn.LeakyReLU(LEAKY_SLOPE, inplace=True))


class Bottleneck(nn.Module):
    """models/bottleneck.cpp: 1x1 -> 3x3 (stride, dilation) -> 1x1, projection shortcut when the
    stride or the channel count changes, leaky ReLU after the residual add."""

    def __init__(self, in_channels, width, stride, dilation):
        super().__init__()
        out_channels = EXPANSION * width
        self.branch = nn.Sequential(
            conv(in_channels, width, 1), bn_act(width),
            conv(width, width, 3, stride, dilation), bn_act(width),
            conv(width, out_channels, 1), bn_act(out_channels, leaky=False))
        self.projection = None
        if stride != 1 or in_channels != out_channels:
            self.projection = nn.Sequential(conv(in_channels, out_channels, 1, stride),
                                            bn_act(out_channels, leaky=False))

    def forward(self, x):
        shortcut = x if self.projection is None else self.projection(x)
        return F.leaky_relu(self.branch(x) + shortcut, LEAKY_SLOPE, inplace=True)


class Backbone(nn.Module):
    """models/resnet_backbone.cpp: 7x7/2 stem -> max pool 3x3/2 -> layer1..layer4; returns the
    layer3 (deep supervision) and layer4 outputs."""

    def __init__(self, preset):
        super().__init__()
        self.stem = nn.Sequential(conv(3, preset["stem"], 7, stride=2), bn_act(preset["stem"]),
                                  nn.MaxPool2d(3, stride=2, padding=1))
        layers, in_channels = [], preset["stem"]
        for layer, (width, blocks) in enumerate(zip(preset["widths"], preset["blocks"])):
            modules = []
            for block in range(blocks):
                # PAnS's _stride_dilation: stride 2 only in the first block of layer2 (the
                # undilated layers after the first).
                stride = 2 if layer > 0 and DILATIONS[layer] == 1 and block == 0 else 1
                modules.append(Bottleneck(in_channels, width, stride, DILATIONS[layer]))
                in_channels = EXPANSION * width
            layers.append(nn.Sequential(*modules))
        self.layers = nn.ModuleList(layers)

    def forward(self, images):
        x = self.stem(images)
        for layer in self.layers[:3]:
            x = layer(x)
        layer3 = x
        return layer3, self.layers[3](layer3)


class PyramidPooling(nn.Module):
    """layers/pyramid_pooling.cpp: per bin count b, adaptive avg pool b x b -> 1x1 conv -> iABN
    -> bilinear upsample (align_corners=False); concat [x, p1, p2, p3, p6]."""

    def __init__(self, in_channels, branch_channels):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(nn.AdaptiveAvgPool2d(bins), conv(in_channels, branch_channels, 1), bn_act(branch_channels))
            for bins in PYRAMID_BINS)

    def forward(self, x):
        size = x.shape[-2:]
        parts = [x] + [F.interpolate(branch(x), size=size, mode="bilinear", align_corners=False)
                       for branch in self.branches]
        return torch.cat(parts, dim=1)


def conv_abn_dropout(in_channels, out_channels):
    """psp_head.cpp's ConvAbnDropout: 3x3 conv (pad 1) -> iABN (leaky) -> Dropout2d."""
    return nn.Sequential(conv(in_channels, out_channels, 3), bn_act(out_channels), nn.Dropout2d(DROPOUT))


class CosineClassifier(nn.Module):
    """layers/classifier.cpp, PAnS: logits = tau <f/|f|, w_k/|w_k|>, no bias, weight {K, C}
    ~ U[-1/sqrt(C), 1/sqrt(C)); F.normalize is pans' v / max(|v|, 1e-12)."""

    def __init__(self, channels):
        super().__init__()
        bound = 1.0 / math.sqrt(channels)
        self.weight = nn.Parameter(torch.empty(CLASSES, channels).uniform_(-bound, bound))

    def forward(self, f):
        w = F.normalize(self.weight, dim=1)[:, :, None, None]
        return COSINE_SCALE * F.conv2d(F.normalize(f, dim=1), w)


class LinearClassifier(nn.Module):
    """layers/classifier.cpp, the baseline: a 1x1 convolution with bias, weight {K, C} and bias
    {K} ~ U[-1/sqrt(C), 1/sqrt(C))."""

    def __init__(self, channels):
        super().__init__()
        bound = 1.0 / math.sqrt(channels)
        self.weight = nn.Parameter(torch.empty(CLASSES, channels).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(CLASSES).uniform_(-bound, bound))

    def forward(self, f):
        return F.conv2d(f, self.weight[:, :, None, None], self.bias)


class PspNet(nn.Module):
    """models/pspnet.cpp: backbone -> head -> classifiers at 1/8 -> logits upsampled to the input.
    Returns (main logits, deep-supervision logits), both {N, 13, H, W}; training mode only, as the
    deep-supervision branch runs only in training."""

    def __init__(self, preset_name, classifier):
        super().__init__()
        preset = PRESETS[preset_name]
        layer3_channels, layer4_channels = (EXPANSION * w for w in preset["widths"][2:])
        head = preset["head"]
        make_classifier = CosineClassifier if classifier == "cosine" else LinearClassifier
        self.backbone = Backbone(preset)
        self.pyramid = PyramidPooling(layer4_channels, head)
        self.conv_last = conv_abn_dropout(layer4_channels + len(PYRAMID_BINS) * head, head)
        self.deep_supervision = conv_abn_dropout(layer3_channels, head)
        self.classifier = make_classifier(head)
        self.deep_supervision_classifier = make_classifier(head)

    def forward(self, images):
        size = images.shape[-2:]
        layer3, layer4 = self.backbone(images)
        logits = self.classifier(self.conv_last(self.pyramid(layer4)))
        deep = self.deep_supervision_classifier(self.deep_supervision(layer3))
        return (F.interpolate(logits, size=size, mode="bilinear", align_corners=False),
                F.interpolate(deep, size=size, mode="bilinear", align_corners=False))


def parameter_counts(model):
    parameters = list(model.parameters())
    return len(parameters), sum(p.numel() for p in parameters)


def check_parameter_count(model, preset, classifier):
    """Raises SystemExit (status 1) unless the model has exactly pans' parameter tensors and count."""
    expected = PANS_PARAMETERS[(preset, classifier)]
    actual = parameter_counts(model)
    if actual != expected:
        sys.exit(f"torch_peer: CHECK FAILED: preset {preset}, classifier {classifier}: {actual[0]} parameter "
                 f"tensors, {actual[1]:,} parameters; pans has {expected[0]} tensors, {expected[1]:,} parameters. "
                 "The peer is not pans' network: fix it before comparing timings.")
    return actual


# ---------------------------------------------------------------------------------------------
# The training step.

def synthetic_batch(batch, crop, device):
    """Normal images {N, 3, crop, crop} in channels_last and labels in 0..12 with ~5 % ignored,
    drawn on the CPU from a fixed seed so that every device gets the same batch."""
    generator = torch.Generator().manual_seed(SEED)
    images = torch.randn(batch, 3, crop, crop, generator=generator)
    labels = torch.randint(0, CLASSES, (batch, crop, crop), generator=generator)
    labels[torch.rand(batch, crop, crop, generator=generator) < 0.05] = IGNORE_LABEL
    return images.to(device).contiguous(memory_format=torch.channels_last), labels.to(device)


def precision_context(dtype, device):
    """The forward's precision: autocast to bfloat16 for bf16, nothing for f32."""
    if dtype == "bf16":
        return lambda: torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext


def compute_loss(model, images, labels):
    logits, deep = model(images)
    return (F.cross_entropy(logits, labels, ignore_index=IGNORE_LABEL)
            + DEEP_SUPERVISION_WEIGHT * F.cross_entropy(deep, labels, ignore_index=IGNORE_LABEL))


def make_optimizer(model):
    # torch's default implementation: foreach (multi-tensor) on CUDA, a per-parameter loop on the CPU.
    return torch.optim.SGD(model.parameters(), lr=BASE_LR, momentum=MOMENTUM, nesterov=True,
                           weight_decay=WEIGHT_DECAY)


def make_train_step(model, optimizer, images, labels, precision, max_iterations):
    """One recipe iteration per call; returns the (detached) loss without synchronising."""
    iteration = 0

    def step():
        nonlocal iteration
        for group in optimizer.param_groups:  # poly schedule, as pans' trainer sets it every iteration
            group["lr"] = BASE_LR * (1.0 - iteration / max_iterations) ** LR_POWER
        iteration += 1
        optimizer.zero_grad(set_to_none=True)
        with precision():
            loss = compute_loss(model, images, labels)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def make_forward(model, images, labels, precision):
    """The forward half of a training step (train mode, autograd recording, loss), no backward.
    Returning the detached loss frees each call's graph before the next call builds its own."""

    def forward():
        with precision():
            return compute_loss(model, images, labels).detach()

    return forward


def autocast_output_dtypes(model, images, labels, precision):
    """What autocast actually computes in: the output dtypes of every leaf module type in one
    forward, e.g. {"Conv2d": ["bfloat16"], "BatchNorm2d": [...]}, of the upsampled logits and of
    the cross-entropy."""
    seen = {}

    def record(module, inputs, output):
        seen.setdefault(type(module).__name__, set()).add(output.dtype)

    leaves = [m for m in model.modules() if not list(m.children())]  # the classifiers are leaves too
    handles = [m.register_forward_hook(record) for m in leaves]
    try:
        with torch.no_grad(), precision():
            logits, _ = model(images)
            seen["upsampled logits"] = {logits.dtype}
            seen["cross_entropy"] = {F.cross_entropy(logits, labels, ignore_index=IGNORE_LABEL).dtype}
    finally:
        for handle in handles:
            handle.remove()
    return {name: sorted(str(dtype).removeprefix("torch.") for dtype in dtypes)
            for name, dtypes in sorted(seen.items())}


# ---------------------------------------------------------------------------------------------
# Timing.

def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_calls(fn, runs, device):
    """Per-call milliseconds of `runs` calls, and the last call's result. CUDA: an event pair
    around each call and one synchronisation at the end, so the host may run ahead as in training
    and each sample is the GPU timeline's time per call. CPU: perf_counter around each call."""
    if device.type == "cuda":
        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(runs)]
        for start, end in events:
            start.record()
            result = fn()
            end.record()
        torch.cuda.synchronize(device)
        return [start.elapsed_time(end) for start, end in events], result
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return samples, result


def percentile(samples, q):
    return torch.tensor(samples, dtype=torch.float64).quantile(q).item()


def summarize(samples, batch):
    median = percentile(samples, 0.5)
    return {"median_ms": median, "p10_ms": percentile(samples, 0.1), "p90_ms": percentile(samples, 0.9),
            "min_ms": min(samples), "max_ms": max(samples), "images_per_second": 1e3 * batch / median,
            "samples_ms": samples}


def measure(fn, args, device):
    """Warm-up calls (cudnn.benchmark picks its algorithms there), then the timed calls, with the
    allocator's high-water mark over the timed calls alone (CUDA only)."""
    for _ in range(args.warmup):
        fn()
    synchronize(device)
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    samples, result = time_calls(fn, args.runs, device)
    summary = summarize(samples, args.batch)
    summary["peak_memory_allocated_bytes"] = torch.cuda.max_memory_allocated(device) if cuda else None
    summary["peak_memory_reserved_bytes"] = torch.cuda.max_memory_reserved(device) if cuda else None
    return summary, result


# ---------------------------------------------------------------------------------------------
# What ran where: versions, settings, commit.

def run_text(*command):
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError) as error:
        return f"unavailable: {error}"


def git_commit():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit = run_text("git", "-C", repo, "rev-parse", "HEAD")
    if commit.startswith("unavailable"):
        return {"hash": "unknown", "dirty": None}
    return {"hash": commit, "dirty": run_text("git", "-C", repo, "status", "--porcelain", "--untracked-files=no") != ""}


def gpu_clocks():
    return run_text("nvidia-smi", "--query-gpu=clocks.sm,clocks.mem,clocks.max.sm,power.draw,power.limit,"
                    "pstate,temperature.gpu", "--format=csv")


def versions(device):
    info = {"python": sys.version.split()[0], "torch": torch.__version__, "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(), "torch_threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count()}
    if device.type == "cuda":
        properties = torch.cuda.get_device_properties(device)
        info.update({"gpu": properties.name, "compute_capability": f"{properties.major}.{properties.minor}",
                     "gpu_memory_bytes": properties.total_memory,
                     "driver": run_text("nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"),
                     "NVIDIA_TF32_OVERRIDE": os.environ.get("NVIDIA_TF32_OVERRIDE")})
    else:
        info.update({"cpu": cpu_model(), "mkldnn": torch.backends.mkldnn.is_available()})
    return info


def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), None)
    except OSError:
        return None


def apply_backend_flags(args):
    """Sets the protocol's explicit flags (docs/benchmarks.md#protocol); returns them, for the record."""
    tf32 = args.tf32 == "on"
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    if args.threads:
        torch.set_num_threads(args.threads)
    return {"cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
            "cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32,
            "cudnn.conv.fp32_precision": torch.backends.cudnn.conv.fp32_precision,
            "cuda.matmul.fp32_precision": torch.backends.cuda.matmul.fp32_precision,
            "cudnn.benchmark": torch.backends.cudnn.benchmark}


def write_json_atomically(path, data):
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w") as file:
        json.dump(data, file, indent=1)
        file.write("\n")
    os.replace(temporary, path)


# ---------------------------------------------------------------------------------------------
# Command line.

def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="PyTorch peer of pans: times a PAnS training step (our exact network) and its peak memory.",
        epilog="Exit status: 0 ok, 1 a check failed, 2 bad command line.")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda", help="where to run (default cuda)")
    parser.add_argument("--preset", choices=["full", "small"], default="full",
                        help="full: ResNet-50-D8 PSPNet, 51.31 M parameters; small: pans' CPU preset, 0.57 M")
    parser.add_argument("--classifier", choices=["cosine", "linear"], default="cosine",
                        help="cosine (PAnS, default) or linear (the baseline)")
    parser.add_argument("--batch", type=positive_int, default=2, help="images per step, at least 2 (default 2)")
    parser.add_argument("--crop", type=positive_int, default=450,
                        help="square crop side in pixels, at least 8 (default 450; train_pans uses 192 on the CPU)")
    parser.add_argument("--dtype", choices=["f32", "bf16"], default="f32",
                        help="f32, or bf16 autocast of the forward and loss (default f32)")
    parser.add_argument("--tf32", choices=["on", "off"], default="on",
                        help="allow TF32 tensor cores for float32 convolutions and matmuls (default on, as pans)")
    parser.add_argument("--threads", type=positive_int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--warmup", type=positive_int, default=10, help="untimed steps first (default 10)")
    parser.add_argument("--runs", type=positive_int, default=50, help="timed steps (default 50)")
    parser.add_argument("--json", metavar="OUT.json", help="write settings, versions and timings here")
    parser.add_argument("--check", action="store_true",
                        help="only check: parameter counts of every preset and classifier against pans, "
                             "then one small-preset step on --device with a finite loss; no timing")
    args = parser.parse_args(argv)
    if args.batch < 2:
        parser.error(f"--batch {args.batch}: at least 2 (batch norm trains on batch statistics, and the "
                     "1x1 pyramid bin has one value per image)")
    if args.crop < 8:
        parser.error(f"--crop {args.crop}: at least 8 (the network works at 1/8 of the crop)")
    if args.json and not os.path.isdir(os.path.dirname(os.path.abspath(args.json))):
        parser.error(f"--json {args.json}: its folder does not exist")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA GPU here (torch.cuda.is_available() is False); "
                     "use --device cpu")
    return args


def run_checks(device):
    """--check: parameter counts of all four networks, then one small-preset step and its shapes."""
    for preset, classifier in PANS_PARAMETERS:
        tensors, count = check_parameter_count(PspNet(preset, classifier), preset, classifier)
        print(f"ok  {preset:5} {classifier:6}  {tensors} parameter tensors, {count:,} parameters (= pans)")
    torch.manual_seed(SEED)
    model = PspNet("small", "cosine").to(device, memory_format=torch.channels_last).train()
    images, labels = synthetic_batch(2, 64, device)
    logits, deep = model(images)
    if logits.shape != (2, CLASSES, 64, 64) or deep.shape != logits.shape:
        sys.exit(f"torch_peer: CHECK FAILED: logits {tuple(logits.shape)}, deep supervision {tuple(deep.shape)}; "
                 f"expected (2, {CLASSES}, 64, 64)")
    optimizer = make_optimizer(model)
    loss = make_train_step(model, optimizer, images, labels, contextlib.nullcontext, 1)()
    if not math.isfinite(loss.item()):
        sys.exit(f"torch_peer: CHECK FAILED: the training step's loss is {loss.item()}")
    print(f"ok  small cosine step on {device.type}: logits {tuple(logits.shape)}, loss {loss.item():.4f}")


def print_table(record):
    s, t = record["settings"], record["timings"]
    print(f"\n{record['model']['preset']} preset, {record['model']['classifier']} classifier, "
          f"{record['model']['parameters']:,} parameters (= pans); batch {s['batch']} x {s['crop']}^2, "
          f"{s['dtype']}, tf32 {s['tf32']}, {record['versions'].get('gpu', 'cpu')}, "
          f"{record['versions']['torch_threads']} threads")
    print(f"{'phase':<24}{'median ms':>11}{'p10 ms':>10}{'p90 ms':>10}{'img/s':>9}{'peak MiB':>10}")
    for phase, summary in t.items():
        peak = summary["peak_memory_allocated_bytes"]
        peak_text = f"{peak / 2**20:.0f}" if peak is not None else "-"
        print(f"{phase:<24}{summary['median_ms']:>11.2f}{summary['p10_ms']:>10.2f}{summary['p90_ms']:>10.2f}"
              f"{summary['images_per_second']:>9.2f}{peak_text:>10}")


def main(argv=None):
    args = parse_args(argv)
    device = torch.device(args.device)
    backend_flags = apply_backend_flags(args)
    if args.check:
        run_checks(device)
        return 0

    torch.manual_seed(SEED)
    model = PspNet(args.preset, args.classifier)
    tensors, parameters = check_parameter_count(model, args.preset, args.classifier)
    model = model.to(device, memory_format=torch.channels_last).train()
    optimizer = make_optimizer(model)
    images, labels = synthetic_batch(args.batch, args.crop, device)
    precision = precision_context(args.dtype, device)
    # The poly schedule ends just after the last timed step, as a run's schedule ends after its
    # last iteration: every step has a positive learning rate.
    max_iterations = args.warmup + args.runs + 1
    environment_before = gpu_clocks() if device.type == "cuda" else None

    dtypes = autocast_output_dtypes(model, images, labels, precision) if args.dtype == "bf16" else None
    train, loss = measure(make_train_step(model, optimizer, images, labels, precision, max_iterations), args, device)
    optimizer.zero_grad(set_to_none=True)  # a forward holds no gradients
    forward, _ = measure(make_forward(model, images, labels, precision), args, device)
    loss = loss.item()
    if not math.isfinite(loss):
        sys.exit(f"torch_peer: CHECK FAILED: the last training step's loss is {loss}")

    record = {
        "schema": "pans.torch_peer/1",
        "timestamp_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": git_commit(),
        "settings": {"device": args.device, "batch": args.batch, "crop": args.crop, "dtype": args.dtype,
                     "tf32": args.tf32, "threads": args.threads, "warmup": args.warmup, "runs": args.runs,
                     "memory_format": "channels_last", "backend_flags": backend_flags,
                     "optimizer": "SGD nesterov momentum 0.9 weight_decay 1e-4, torch default implementation, "
                                  "zero_grad(set_to_none=True), poly lr from 0.007",
                     "normalization": "BatchNorm2d + LeakyReLU(0.01, inplace) per InPlace-ABN",
                     "phases": {"train_step": "zero_grad, forward, loss, backward, optimizer.step",
                                "forward": "the train step's forward and loss (train mode, autograd recording), "
                                           "no backward"},
                     "timer": "CUDA events per step" if device.type == "cuda" else "time.perf_counter per step",
                     "input": "synthetic: randn images, labels 0..12 with ~5% 255, made once on the device"},
        "versions": versions(device),
        "environment": {"before": environment_before, "after": gpu_clocks() if device.type == "cuda" else None},
        "model": {"preset": args.preset, "classifier": args.classifier, "parameter_tensors": tensors,
                  "parameters": parameters, "matches_pans": True},
        "autocast_output_dtypes": dtypes,
        "last_loss": loss,
        "timings": {"train_step": train, "forward": forward},
    }
    if args.json:
        write_json_atomically(args.json, record)
    print_table(record)
    if args.json:
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
