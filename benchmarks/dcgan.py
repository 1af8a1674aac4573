"""DCGAN training speed on the CPU: the engine's fast path against the reference loop.

Both loops train the 64x64 DCGAN with 64 base channels (one grey channel, MNIST
digits resized to 64x64) at batch size 64 on 2 torch threads, and again on 1, from
the same initial weights, data order and noise:

* **reference**: `gan_book.dcgan_reference.train_reference`, the structure of
  PyTorch's DCGAN example in float32 with contiguous tensors;
* **engine, fast path**: `gan_book.dcgan.train.train` with bf16 autocast and
  channels-last tensors (`DCGANConfig(bf16=True, channels_last=True)`);
* **engine, float32**: the engine with both switches off, to separate the effect
  of the loop from that of the switches.

The timing runs in one Python process per thread count: `WARMUP_STEPS` untimed steps
of each variant first (oneDNN builds its kernels on first use), then `REPEATS`
rounds of `TIMED_STEPS` timed steps of each variant in turn. Each variant's fastest
run counts, because other work on the machine can only slow a run down, and the
interleaving exposes all variants to the same bursts of it. Peak resident memory
(`ru_maxrss`, which covers the interpreter, torch, the data and the training) comes
from a separate process per variant.

Achieved FLOP/s counts the model FLOPs of `training_flops_per_image` (convolutions
only, backward = 2 x forward). The peak is derived from `lscpu`: cores x clock x
FLOPs per cycle and core, assuming two AVX-512 FMA units per core (64 float32
FLOP/cycle) and, with the `amx_bf16` flag, AMX tiles at 1024 bf16 FLOP/cycle. The
clock is the nominal one (`cpu MHz` in /proc/cpuinfo, or BogoMIPS / 2); turbo is
not counted, so the true peak may be higher.

The quality check trains the book chapter's small 28x28 configuration for
`QUALITY_STEPS` steps with each loop and scores 1,000 samples of each with the
digit classifier of `gan_book.dcgan_quality`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

TITLE = "DCGAN training on the CPU: the engine's fast path against the reference loop"
ROOT = Path(__file__).resolve().parents[1]
THREADS = 2  # the measurement the benchmark is about
THREAD_COUNTS = (2, 1)  # one thread as well: it is far less sensitive to other load
WARMUP_STEPS = 1
TIMED_STEPS = 2  # per timed run
REPEATS = 5  # rounds of timed runs; each variant's fastest run counts
QUALITY_STEPS = 300
QUALITY_SAMPLES = 1000
VARIANTS = ("reference", "engine-fp32", "engine-fast")


def benchmark_config(variant: str, steps: int, threads: int = THREADS):
    """Return the 64x64 benchmark config of one variant."""
    from gan_book.dcgan import DCGANConfig

    fast = variant == "engine-fast"
    return DCGANConfig(
        image_size=64, g_width=64, d_width=64, channels=1, batch_size=64, steps=steps,
        max_images=1024, threads=threads, device="cpu", bf16=fast, channels_last=fast,
        progress=False, log_every=10**6, sample_every=0, checkpoint_every=0, num_samples=8,
    )  # fmt: skip


def quality_config(variant: str):
    """Return the book chapter's small config, cut to QUALITY_STEPS, for one variant."""
    from gan_book.dcgan_study import book_config

    fast = variant == "engine-fast"
    # One thread: the quality runs are not timed, and one thread is robust to other load.
    return dataclasses.replace(
        book_config(), steps=QUALITY_STEPS, threads=1, bf16=fast, channels_last=fast, history_samples=()
    )


def _train(variant: str, config):
    from gan_book.dcgan.train import train
    from gan_book.dcgan_reference import train_reference

    return train_reference(config) if variant == "reference" else train(config)


def measure_speeds(threads: int) -> dict:
    """Time every variant at `threads` threads in this process, interleaved.

    After `WARMUP_STEPS` steps of each variant, `REPEATS` rounds run `TIMED_STEPS`
    steps of each variant in turn, so a burst of other load hits all variants alike.
    Returns, per variant, the best and the median images/s of its runs.
    """
    import statistics

    for variant in VARIANTS:
        _train(variant, benchmark_config(variant, WARMUP_STEPS, threads))
    rates: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for _ in range(REPEATS):
        for variant in VARIANTS:
            history = _train(variant, benchmark_config(variant, TIMED_STEPS, threads))
            rates[variant].append(history.images_per_second)
    return {
        variant: {"best": max(values), "median": statistics.median(values)}
        for variant, values in rates.items()
    }


def measure_memory(variant: str) -> float:
    """Return the peak resident memory in MiB of a process that trains one variant."""
    import resource

    _train(variant, benchmark_config(variant, WARMUP_STEPS + TIMED_STEPS))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_quality(variant: str) -> dict:
    """Train one variant on the chapter's small config and score its samples."""
    from gan_book.book.cache import cached
    from gan_book.dcgan_quality import ClassifierConfig, score_samples, train_classifier
    from gan_book.dcgan_study import generate

    history = _train(variant, quality_config(variant))
    classifier = cached(train_classifier)(ClassifierConfig())
    report = score_samples(classifier, generate(history, QUALITY_SAMPLES, seed=1))
    return {
        "covered_classes": report.covered_classes,
        "mean_top_probability": report.mean_top_probability,
        "frechet_distance": report.frechet_distance,
        "reference_frechet_distance": report.reference_frechet_distance,
        "train_seconds": history.seconds,
    }


def _in_child(call: str, threads: int = THREADS):
    """Evaluate `call`, an expression on this module, in a fresh Python process."""
    code = f"import json; from benchmarks import dcgan; print('RESULT ' + json.dumps(dcgan.{call}))"
    environment = dict(os.environ, OMP_NUM_THREADS=str(threads))
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark process {call} failed:\n{completed.stderr[-3000:]}")
    line = next(line for line in completed.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def _lscpu_flags_and_megahertz() -> tuple[set[str], float | None]:
    """Return the CPU flags and the nominal clock in MHz (None if unknown)."""
    flags: set[str] = set()
    megahertz = None
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Flags":
            flags = set(value.split())
        elif key.strip() == "BogoMIPS":
            megahertz = float(value) / 2  # BogoMIPS is twice the TSC clock on x86

    try:
        match = re.search(r"^cpu MHz\s*:\s*([\d.]+)", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    except OSError:
        match = None
    if match:
        megahertz = float(match.group(1))
    return flags, megahertz


def _flops_per_cycle(flags: set[str]) -> tuple[int, int | None]:
    """Return (float32, bf16) FLOPs per cycle and core that the flags allow, as assumed."""
    if "avx512f" in flags:
        fp32 = 64  # two 16-lane FMA units
    elif "fma" in flags:
        fp32 = 32  # two 8-lane FMA units
    else:
        fp32 = 8
    if "amx_bf16" in flags:
        bf16 = 1024  # one AMX tile multiply unit
    elif "avx512_bf16" in flags:
        bf16 = 128  # bf16 dot products on two 16-lane units
    else:
        bf16 = None
    return fp32, bf16


def cpu_peak_flops() -> dict:
    """Derive float32 and bf16 peak FLOP/s of the cores the benchmark uses from lscpu."""
    flags, megahertz = _lscpu_flags_and_megahertz()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = min(usable or 1, THREADS)
    if megahertz is None:
        return {"fp32": None, "bf16": None, "ghz": None, "cores": cores}

    fp32_per_cycle, bf16_per_cycle = _flops_per_cycle(flags)
    hertz = megahertz * 1e6 * cores
    return {
        "fp32": fp32_per_cycle * hertz,
        "bf16": bf16_per_cycle * hertz if bf16_per_cycle else None,
        "ghz": megahertz / 1000,
        "cores": cores,
    }


def run() -> dict:
    from gan_book.dcgan_reference import training_flops_per_image

    flops_per_image = training_flops_per_image(benchmark_config("reference", 1))
    peak = cpu_peak_flops()
    load_before = os.getloadavg()[0]
    speed = {threads: _in_child(f"measure_speeds({threads})", threads) for threads in THREAD_COUNTS}
    memory = {variant: _in_child(f"measure_memory({variant!r})") for variant in VARIANTS}
    quality = {variant: _in_child(f"measure_quality({variant!r})") for variant in ("reference", "engine-fast")}
    load_after = os.getloadavg()[0]

    rows = []
    for threads in THREAD_COUNTS:
        baseline = speed[threads]["reference"]["best"]
        for variant in VARIANTS:
            result = speed[threads][variant]
            rate = result["best"]
            achieved = rate * flops_per_image
            peak_flops = peak["bf16"] if variant == "engine-fast" else peak["fp32"]
            if peak_flops:
                share = f"{100 * achieved / (peak_flops * threads / peak['cores']):.1f} %"
            else:
                share = "n/a"
            scores = quality.get(variant) if threads == THREADS else None
            if scores:
                quality_text = (
                    f"{scores['covered_classes']}/10, {scores['mean_top_probability']:.3f}, "
                    f"{scores['frechet_distance']:.1f}"
                )
            else:
                quality_text = ""
            rows.append([
                threads, variant, f"{rate:.1f} ({result['median']:.1f})",
                f"{rate / baseline:.2f}x",
                f"{memory[variant]:.0f}" if threads == THREADS else "", f"{achieved / 1e9:.1f}", share, quality_text,
            ])  # fmt: skip

    reference_fd = quality["reference"]["reference_frechet_distance"]
    if peak["fp32"]:
        peak_text = (
            f"{peak['ghz']:.2f} GHz per core: float32 peak {peak['fp32'] / peak['cores'] / 1e9:.0f} "
            "GFLOP/s per core (AVX-512 FMA, 64 FLOP/cycle assumed)"
        )
        if peak["bf16"]:
            peak_text += f", bf16 peak {peak['bf16'] / peak['cores'] / 1e12:.2f} TFLOP/s per core (AMX, 1024 FLOP/cycle assumed)"
    else:
        peak_text = "unknown (lscpu gave no clock)"
    notes = (
        f"64x64 grey images, 64 base channels, batch 64, at 2 torch threads (the benchmark's "
        f"setting) and at 1, one process per thread count. After {WARMUP_STEPS} warm-up step "
        f"of each variant, {REPEATS} rounds run {TIMED_STEPS} timed steps of each variant in "
        f"turn; images/s is the best run (the median in brackets), and the speed-up and "
        f"FLOP/s use the best. Load average of the machine: {load_before:.1f} "
        f"before, {load_after:.1f} after; other work running at the same time slows 2-thread "
        f"runs far more than 1-thread runs, most likely because each OpenMP thread waits for "
        f"the other at every parallel region. "
        f"Model FLOPs per training image: {flops_per_image / 1e9:.2f} GFLOP (convolutions, "
        f"3 F_G + 8 F_D). Peak: {peak_text}, times the thread count; the engine-fast rows are "
        f"compared with the bf16 peak, the others with the float32 peak. Peak RSS comes from a "
        f"separate process per variant at 2 threads and covers the whole process (interpreter, "
        f"torch, 1,024 digits at 64x64, models, optimiser state). "
        f"Quality: the book's 28x28 configuration trained {QUALITY_STEPS} steps on 1 thread with "
        f"each loop from the same start, {QUALITY_SAMPLES} samples scored as classes covered / "
        f"10, mean top-class probability, Fréchet distance (real held-out digits score "
        f"{reference_fd:.1f}). After so few steps neither is recognisable yet, so the check is "
        f"that the two loops land close together."
    )
    return {
        "columns": ["threads", "loop", "images/s, best (median)", "speed-up", "peak RSS (MiB)",
                    "achieved GFLOP/s", "of peak", f"quality after {QUALITY_STEPS} steps"],
        "rows": rows,
        "notes": notes,
    }
