"""DCGAN training speed on a CUDA GPU: the engine's fast path against the reference loop.

The GPU counterpart of `benchmarks/dcgan.py`, for machines with a CUDA device:
the 64x64 DCGAN with 64 base channels (3 channels, the shipped digits resized and
repeated, so the images have CelebA's shape) at batch sizes 64, 256 and 1024,

* **reference**: `gan_book.dcgan_reference.train_reference` in float32 with
  contiguous tensors, the structure of PyTorch's DCGAN example;
* **engine, fast path**: `gan_book.dcgan.train.train` with bf16 autocast and
  channels-last tensors.

Throughput comes from `History.images_per_second`: wall-clock time over the timed
steps, ending with a device synchronisation (the per-step `.item()` reads of both
loops synchronise every step anyway, as PyTorch's example does). Peak memory is
`torch.cuda.max_memory_allocated` over the timed run. The FLOP/s ceiling is
measured here, not looked up: the rate of an 8192 x 8192 x 8192 matrix product in
bf16 and in float32 (TF32 off) on random data. Achieved FLOP/s counts the model
FLOPs of `training_flops_per_image`.

Without a CUDA device, `run()` returns a table with no rows and a note that
explains why. So `python -m benchmarks` on a CPU-only machine records the skip
without failing, and `python -m benchmarks.dcgan_gpu` exits with status 1 and
that message.
"""

from __future__ import annotations

import sys
import time

# Needs CUDA: `python -m benchmarks dcgan_gpu` runs it; a plain `make bench` does not.
RUN_BY_DEFAULT = False
TITLE = "DCGAN training on a CUDA GPU: the engine's fast path against the reference loop"
BATCH_SIZES = (64, 256, 1024)
WARMUP_STEPS = 3
TIMED_STEPS = 20
MATMUL_SIDE = 8192
NO_CUDA_MESSAGE = (
    "not run: torch finds no CUDA device on this machine. Run "
    "`python -m benchmarks dcgan_gpu` on a machine with an NVIDIA GPU and a CUDA build of torch."
)


def benchmark_config(variant: str, batch_size: int, steps: int):
    """Return the 64x64 RGB benchmark config of one variant on the GPU."""
    from gan_book.dcgan import DCGANConfig

    fast = variant == "engine-fast"
    return DCGANConfig(
        image_size=64, g_width=64, d_width=64, channels=3, batch_size=batch_size, steps=steps,
        max_images=4096, device="cuda", bf16=fast, channels_last=fast, progress=False,
        log_every=10**6, sample_every=0, checkpoint_every=0, num_samples=8,
    )  # fmt: skip


def matmul_flops(dtype) -> float:
    """Return the measured FLOP/s of a large square matrix product in `dtype`."""
    import torch

    generator = torch.Generator(device="cuda").manual_seed(0)
    a = torch.randn(MATMUL_SIDE, MATMUL_SIDE, device="cuda", dtype=dtype, generator=generator)
    b = torch.randn(MATMUL_SIDE, MATMUL_SIDE, device="cuda", dtype=dtype, generator=generator)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    start = time.perf_counter()
    repeats = 10
    for _ in range(repeats):
        a @ b
    torch.cuda.synchronize()
    return 2 * MATMUL_SIDE**3 * repeats / (time.perf_counter() - start)


def measure(variant: str, batch_size: int) -> dict:
    """Return images/s and peak GPU memory of one variant at one batch size."""
    import torch

    from gan_book.dcgan.train import train
    from gan_book.dcgan_reference import train_reference

    run = train_reference if variant == "reference" else train
    run(benchmark_config(variant, batch_size, WARMUP_STEPS))
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    history = run(benchmark_config(variant, batch_size, TIMED_STEPS))
    torch.cuda.synchronize()
    return {
        "images_per_second": history.images_per_second,
        "peak_mib": torch.cuda.max_memory_allocated() / 2**20,
    }


def run() -> dict:
    import torch

    columns = ["batch", "loop", "images/s", "speed-up", "peak GPU memory (MiB)",
               "achieved TFLOP/s", "of measured matmul rate"]
    if not torch.cuda.is_available():
        return {"columns": columns, "rows": [], "notes": NO_CUDA_MESSAGE}

    from gan_book.dcgan_reference import training_flops_per_image

    saved_tf32 = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        ceiling = {"reference": matmul_flops(torch.float32), "engine-fast": matmul_flops(torch.bfloat16)}
        results_by_batch = {
            batch_size: {variant: measure(variant, batch_size) for variant in ("reference", "engine-fast")}
            for batch_size in BATCH_SIZES
        }
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved_tf32
    flops_per_image = training_flops_per_image(benchmark_config("reference", 64, 1))

    rows = []
    for batch_size, results in results_by_batch.items():
        baseline = results["reference"]["images_per_second"]
        for variant, result in results.items():
            achieved = result["images_per_second"] * flops_per_image
            rows.append([
                batch_size, variant, f"{result['images_per_second']:,.0f}",
                f"{result['images_per_second'] / baseline:.2f}x", f"{result['peak_mib']:,.0f}",
                f"{achieved / 1e12:.2f}", f"{100 * achieved / ceiling[variant]:.1f} %",
            ])  # fmt: skip

    notes = (
        f"{torch.cuda.get_device_name()}, torch {torch.__version__}. 64x64 RGB images, 64 base "
        f"channels, {TIMED_STEPS} timed steps after {WARMUP_STEPS} warm-up steps per run. "
        f"Model FLOPs per training image: {flops_per_image / 1e9:.2f} GFLOP (convolutions, "
        f"3 F_G + 8 F_D). Measured matmul rate ({MATMUL_SIDE}^3, random data): float32 "
        f"{ceiling['reference'] / 1e12:.1f} TFLOP/s with TF32 off, used for the reference rows; "
        f"bf16 {ceiling['engine-fast'] / 1e12:.1f} TFLOP/s, used for the fast-path rows. "
        "TF32 is off for the reference loop, as in a float32 recipe."
    )
    return {"columns": columns, "rows": rows, "notes": notes}


if __name__ == "__main__":
    import torch

    if not torch.cuda.is_available():
        print(NO_CUDA_MESSAGE, file=sys.stderr)
        sys.exit(1)
    table = run()
    print(" | ".join(table["columns"]))
    for row in table["rows"]:
        print(" | ".join(str(cell) for cell in row))
    print(table["notes"])
