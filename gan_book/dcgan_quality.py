r"""Sample quality of generated digits, measured with a small classifier of real ones.

Backs the chapter on DCGAN, section "How good are the samples?". A GAN's losses do
not say whether its images look like the data. This module therefore scores a batch
of generated digits with a convolutional classifier trained on the shipped MNIST
digits (`gan_book.dcgan.load_mnist10k`). A held-out split of those digits measures
the classifier's accuracy. The scores are:

* **class coverage**: how many of the ten classes receive at least
  `min_class_share` of the samples (a mode-collapsed generator covers few);
* **mean top-class probability**: the average of $\max_k p(k \mid x)$ over the
  samples, where $p$ is the classifier's softmax (a blurred or scribbled image
  gets a flat $p$);
* **Fréchet distance** between Gaussians fitted to the classifier's penultimate-layer
  features of the samples and of held-out real digits,

  $$d_F^2 = \lVert \mu_1 - \mu_2 \rVert^2
        + \operatorname{tr}\bigl(\Sigma_1 + \Sigma_2
        - 2\,(\Sigma_1^{1/2} \Sigma_2 \Sigma_1^{1/2})^{1/2}\bigr),$$

  the recipe of the Fréchet Inception Distance (Heusel, Ramsauer, Unterthiner,
  Nessler and Hochreiter, "GANs Trained by a Two Time-Scale Update Rule Converge
  to a Local Nash Equilibrium", NeurIPS 2017) with this digit classifier in place of
  Inception. The estimate is biased upwards by a finite sample (Chong and Forsyth,
  "Effectively Unbiased FID and Inception Score and Where to Find Them", CVPR
  2020), so a score is only compared with the reference value computed from the
  same number of real held-out digits.

A batch counts as **recognisable** when it covers at least
`RECOGNISABLE_MIN_CLASSES` = 9 classes with a mean top-class probability of at
least `RECOGNISABLE_MIN_CONFIDENCE` = 0.8.

Train and score (a few seconds on two CPU cores):

    from gan_book.dcgan_quality import train_classifier, score_samples
    classifier = train_classifier()
    report = score_samples(classifier, images)  # images in [-1, 1], (N, 1, S, S)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gan_book.dcgan.data import load_mnist10k

NUM_CLASSES = 10
CLASSIFIER_SIDE = 28  # the classifier reads 28x28 digits, MNIST's own size
# The engine pads 28x28 digits with 2 black pixels per side to reach 32x32.
PAD_32 = 2
RECOGNISABLE_MIN_CLASSES = 9
RECOGNISABLE_MIN_CONFIDENCE = 0.8
# A class counts as covered when it receives a quarter of its uniform share (1/10).
DEFAULT_MIN_CLASS_SHARE = 0.025


@dataclass(frozen=True)
class ClassifierConfig:
    """Data split and optimisation settings of the digit classifier.

    The defaults train in about 7 s on one CPU thread and reach about 97 % accuracy
    on the 2,000 held-out digits. `TrainedClassifier.test_accuracy` has the measured
    value.
    """

    seed: int = 0
    test_size: int = 2000  # shipped digits held out for accuracy and Fréchet reference
    epochs: int = 6
    batch_size: int = 100
    max_learning_rate: float = 3e-3  # peak of the one-cycle schedule, Adam
    conv_widths: tuple[int, int] = (16, 32)
    feature_dim: int = 64  # width of the penultimate layer: the Fréchet feature space

    def __post_init__(self) -> None:
        for name in ("test_size", "epochs", "batch_size", "feature_dim"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.test_size >= 10_000 - NUM_CLASSES:
            raise ValueError(
                f"test_size {self.test_size} leaves too few of the 10,000 digits to train on; "
                "use at most 9,000"
            )
        if not self.max_learning_rate > 0:
            raise ValueError(f"max_learning_rate must be > 0, got {self.max_learning_rate!r}")
        if len(self.conv_widths) != 2 or min(self.conv_widths) < 1:
            raise ValueError(f"conv_widths must be two positive integers, got {self.conv_widths!r}")


class DigitClassifier(nn.Module):
    """Two stride-2 convolutions and two linear layers: (N, 1, 28, 28) -> 10 logits."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        first, second = config.conv_widths
        self.body = nn.Sequential(
            nn.Conv2d(1, first, 5, stride=2, padding=2),  # (N, first, 14, 14)
            nn.ReLU(),
            nn.Conv2d(first, second, 5, stride=2, padding=2),  # (N, second, 7, 7)
            nn.ReLU(),
            nn.Flatten(),  # (N, second * 49)
            nn.Linear(second * 7 * 7, config.feature_dim),
            nn.ReLU(),  # (N, feature_dim): the features of the Fréchet distance
        )
        self.head = nn.Linear(config.feature_dim, NUM_CLASSES)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(images))


@dataclass
class TrainedClassifier:
    """A trained digit classifier as plain arrays, so the book's cache can pickle it.

    `test_indices` are the held-out digits' positions in `load_mnist10k()`, and
    `test_accuracy` is the fraction of them classified correctly.
    """

    config: ClassifierConfig
    state: dict[str, np.ndarray]
    test_indices: np.ndarray
    test_accuracy: float
    train_seconds: float
    _network: DigitClassifier | None = field(default=None, repr=False, compare=False)

    def network(self) -> DigitClassifier:
        """Return the classifier as a torch module in evaluation mode."""
        if self._network is None:
            network = DigitClassifier(self.config)
            network.load_state_dict({name: torch.from_numpy(value) for name, value in self.state.items()})
            self._network = network.eval()
        return self._network

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_network"] = None
        return state


@dataclass(frozen=True)
class QualityReport:
    """Scores of one batch of images (the module docstring defines each measure).

    `class_counts[k]` is how many images the classifier assigns to digit k.
    `reference_frechet_distance` is the distance between two disjoint sets of real
    held-out digits of `reference_size` images each, the value a perfect generator
    would get with that many samples.
    """

    sample_count: int
    class_counts: tuple[int, ...]
    covered_classes: int
    min_class_share: float
    mean_top_probability: float
    frechet_distance: float
    reference_frechet_distance: float
    reference_size: int

    @property
    def recognisable(self) -> bool:
        return (
            self.covered_classes >= RECOGNISABLE_MIN_CLASSES
            and self.mean_top_probability >= RECOGNISABLE_MIN_CONFIDENCE
        )


def split_indices(count: int, test_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (train, test) index arrays: a seeded random permutation of range(count)."""
    if not 0 < test_size < count:
        raise ValueError(f"test_size must lie in (0, {count}), got {test_size}")
    order = np.random.default_rng(seed).permutation(count)
    return np.sort(order[test_size:]), np.sort(order[:test_size])


def prepare_images(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Convert images to the classifier's input: float32 (N, 1, 28, 28) in [-1, 1].

    `images` is uint8 (0..255) or float in [-1, 1], shaped (N, H, W) or
    (N, C, H, W) with C = 1 or 3 (colour is averaged to grey). Sizes: 28 is used as
    it is, and 32 is cropped by the 2-pixel border that the DCGAN engine pads 28x28
    digits with. Any other square size is resized to 28 with antialiased bilinear
    interpolation.
    """
    tensor = images.detach().cpu() if isinstance(images, torch.Tensor) else torch.from_numpy(np.asarray(images))
    if tensor.ndim == 3:
        tensor = tensor[:, None]
    if tensor.ndim != 4 or tensor.shape[1] not in (1, 3) or tensor.shape[2] != tensor.shape[3]:
        raise ValueError(
            "images must have shape (N, H, W) or (N, C, H, W) with C in (1, 3) and H = W, "
            f"got {tuple(tensor.shape)}"
        )
    if tensor.shape[0] == 0:
        raise ValueError("images is empty; pass at least one image")
    if tensor.dtype == torch.uint8:
        tensor = tensor.to(torch.float32).div(127.5).sub(1.0)
    elif tensor.is_floating_point():
        tensor = tensor.to(torch.float32)
        if not torch.isfinite(tensor).all():
            raise ValueError("images contain NaN or infinite values")
    else:
        raise ValueError(f"images must be uint8 or floating point, got {tensor.dtype}")
    if tensor.shape[1] == 3:
        tensor = tensor.mean(dim=1, keepdim=True)

    side = tensor.shape[-1]
    if side == CLASSIFIER_SIDE + 2 * PAD_32:
        tensor = tensor[..., PAD_32:-PAD_32, PAD_32:-PAD_32]
    elif side != CLASSIFIER_SIDE:
        tensor = F.interpolate(
            tensor, size=(CLASSIFIER_SIDE, CLASSIFIER_SIDE), mode="bilinear",
            align_corners=False, antialias=side > CLASSIFIER_SIDE,
        )
    return tensor.contiguous()


@contextmanager
def _one_thread() -> Iterator[None]:
    """Run torch on one intra-op thread inside the block, then restore the count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train_classifier(config: ClassifierConfig = ClassifierConfig()) -> TrainedClassifier:
    """Train the digit classifier on the shipped digits except a held-out split.

    Adam with a one-cycle learning-rate schedule, cross-entropy, `config.epochs`
    passes over the training digits in seeded random order. Training runs on one
    torch thread, so the result is the same on any machine for a given config and
    torch version. This small network gains little from more threads, and on a
    loaded two-core machine two threads ran about 15 times slower than one.
    """
    with _one_thread():
        return _train_classifier(config)


def _train_classifier(config: ClassifierConfig) -> TrainedClassifier:
    start = time.perf_counter()
    images, labels = load_mnist10k()
    train_index, test_index = split_indices(len(images), config.test_size, config.seed)
    inputs = prepare_images(images)
    targets = torch.from_numpy(labels.astype(np.int64))

    torch.manual_seed(config.seed)
    network = DigitClassifier(config)
    steps_per_epoch = -(-len(train_index) // config.batch_size)
    optimizer = torch.optim.Adam(network.parameters(), lr=config.max_learning_rate)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.max_learning_rate, total_steps=config.epochs * steps_per_epoch
    )
    order_rng = np.random.default_rng(config.seed + 1)
    network.train()
    for _ in range(config.epochs):
        order = torch.from_numpy(order_rng.permutation(train_index))
        for batch in order.split(config.batch_size):
            loss = F.cross_entropy(network(inputs[batch]), targets[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()

    network.eval()
    with torch.no_grad():
        predicted = network(inputs[torch.from_numpy(test_index)]).argmax(dim=1)
    accuracy = float((predicted == targets[torch.from_numpy(test_index)]).double().mean())
    state = {name: value.detach().clone().numpy() for name, value in network.state_dict().items()}
    return TrainedClassifier(
        config=config,
        state=state,
        test_indices=test_index,
        test_accuracy=accuracy,
        train_seconds=time.perf_counter() - start,
    )


def _forward_in_batches(classifier: TrainedClassifier, images, features: bool, batch_size: int = 1000):
    network = classifier.network()
    inputs = prepare_images(images)
    outputs = []
    with torch.no_grad(), _one_thread():
        for batch in inputs.split(batch_size):
            outputs.append(network.features(batch) if features else torch.softmax(network(batch), dim=1))
    return torch.cat(outputs).double().numpy()


def predict_probabilities(classifier: TrainedClassifier, images) -> np.ndarray:
    """Return the class probabilities p(k | x), shape (N, 10), of each image."""
    return _forward_in_batches(classifier, images, features=False)


def extract_features(classifier: TrainedClassifier, images) -> np.ndarray:
    """Return the penultimate-layer features, shape (N, feature_dim), float64."""
    return _forward_in_batches(classifier, images, features=True)


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    r"""Return the Fréchet distance $d_F^2$ between Gaussian fits of two feature sets.

    `features_a` and `features_b` are (N, D) and (M, D) arrays whose row means and
    covariances (with the N - 1 denominator) are $\mu_1, \Sigma_1$ and
    $\mu_2, \Sigma_2$. The trace of the matrix square root is computed from the
    eigenvalues of the symmetric matrix $\Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2}$, so no
    complex rounding residue appears; the result is clipped at 0.
    """
    a = np.asarray(features_a, dtype=np.float64)
    b = np.asarray(features_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(
            f"features must be two 2-D arrays with the same number of columns, got {a.shape} and {b.shape}"
        )
    if min(len(a), len(b)) < 2:
        raise ValueError(f"need at least 2 rows per feature set to fit a covariance, got {len(a)} and {len(b)}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("features contain NaN or infinite values")

    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    eigenvalues, eigenvectors = np.linalg.eigh(cov_a)
    root_a = (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T
    middle = root_a @ cov_b @ root_a
    middle = (middle + middle.T) / 2.0  # symmetric up to rounding; make it exactly so
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh(middle), 0.0, None)).sum()
    distance = float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_root)
    return max(distance, 0.0)


def class_coverage(probabilities: np.ndarray, min_class_share: float = DEFAULT_MIN_CLASS_SHARE) -> tuple[int, np.ndarray]:
    """Return (covered classes, per-class counts) of the classifier's top-class labels.

    A class is covered when at least `min_class_share` of the images are assigned to
    it (the default 0.025 is a quarter of the uniform share of ten classes).
    """
    if not 0 <= min_class_share <= 1:
        raise ValueError(f"min_class_share must lie in [0, 1], got {min_class_share!r}")
    counts = np.bincount(np.argmax(probabilities, axis=1), minlength=NUM_CLASSES)
    covered = int(np.sum(counts >= max(min_class_share * len(probabilities), 1)))
    return covered, counts


def real_reference_images(classifier: TrainedClassifier) -> tuple[np.ndarray, np.ndarray]:
    """Return two disjoint halves of the held-out real digits, uint8 (n, 28, 28) each."""
    images, _ = load_mnist10k()
    held_out = images[classifier.test_indices]
    half = len(held_out) // 2
    return held_out[:half], held_out[half : 2 * half]


def score_samples(
    classifier: TrainedClassifier,
    images,
    *,
    min_class_share: float = DEFAULT_MIN_CLASS_SHARE,
) -> QualityReport:
    """Score a batch of images (generated or real) against held-out real digits.

    `images` are as `prepare_images` accepts. The Fréchet distance compares them with
    the second half of the held-out digits; the reference value compares the first
    half with the second. Use as many images as one half contains
    (`classifier.config.test_size // 2`, 1,000 by default) for a like-for-like
    comparison, because the estimate's bias falls with the sample size.
    """
    probabilities = predict_probabilities(classifier, images)
    covered, counts = class_coverage(probabilities, min_class_share)
    first_half, second_half = real_reference_images(classifier)
    reference_features = extract_features(classifier, second_half)
    distance = frechet_distance(extract_features(classifier, images), reference_features)
    reference = frechet_distance(extract_features(classifier, first_half), reference_features)
    return QualityReport(
        sample_count=len(probabilities),
        class_counts=tuple(int(count) for count in counts),
        covered_classes=covered,
        min_class_share=min_class_share,
        mean_top_probability=float(probabilities.max(axis=1).mean()),
        frechet_distance=distance,
        reference_frechet_distance=reference,
        reference_size=len(second_half),
    )
