# %% [markdown]
# # Lab: a DCGAN on real digits
#
# [Download this lab as a notebook](dcgan.ipynb) and run it with `gan_book`
# installed (`pip install -e .` in the book's repository).
#
# The lab loads the small DCGAN that the book trains on 10,000 real MNIST digits.
# It comes from the result cache, so it costs nothing after a build. Otherwise the
# first cell trains it, in under a minute on an idle two-core machine. The lab then looks at the
# architecture and the samples, and scores the samples with the digit classifier of
# `gan_book.dcgan_quality`. The last cells
# train a model of your own for a few hundred steps: change the config and compare.

# %%
import matplotlib.pyplot as plt

from gan_book.book.cache import cached
from gan_book.dcgan.model import build_models, layer_table
from gan_book.dcgan.train import train
from gan_book.dcgan_quality import ClassifierConfig, score_samples, train_classifier
from gan_book.dcgan_study import book_config, generate, interpolate
from gan_book.images import make_grid

config = book_config()
history = cached(train)(config)
classifier = cached(train_classifier)(ClassifierConfig())
print(f"{config.steps} steps, batch {config.batch_size}, {config.image_size}x{config.image_size}")
print(f"classifier accuracy on 2,000 held-out digits: {classifier.test_accuracy:.1%}")

# %% [markdown]
# ## The generator, layer by layer
#
# $z \in \mathbb{R}^{d}$ with $d$ = `latent_dim` enters as a $d \times 1 \times 1$
# map; each transposed convolution doubles the side.

# %%
generator, discriminator = build_models(config, seed=0)
for row in layer_table(generator, config):
    print(f"{row.layer:45s} {str(row.output_shape):18s} {row.parameters:>8,}")

# %% [markdown]
# ## Samples and a latent walk

# %%
samples = generate(history, 64, seed=0)
walks = interpolate(history, seed=7, rows=4, steps=10)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
left.imshow(make_grid(samples, ncols=8), cmap="gray")
left.set_title("64 samples (evaluation mode)")
right.imshow(make_grid(walks, ncols=10), cmap="gray")
right.set_title("spherical interpolations")
for axis in (left, right):
    axis.axis("off")
plt.show()

# %% [markdown]
# ## The classifier's verdict
#
# Recognisable means at least 9 of the 10 classes, each with at least 2.5 % of the
# samples, and a mean top-class probability of at least 0.8.

# %%
report = score_samples(classifier, generate(history, 1000, seed=1))
print(f"classes covered: {report.covered_classes} / 10, counts {report.class_counts}")
print(f"mean top-class probability: {report.mean_top_probability:.3f}")
print(f"Fréchet distance: {report.frechet_distance:.1f} "
      f"(real against real: {report.reference_frechet_distance:.1f})")
print("recognisable:", report.recognisable)

# %% [markdown]
# ## Your turn
#
# Train a variant for 300 steps (about 15 s with bf16 on a recent CPU, longer in
# float32) and score it. Try `learning_rate=2e-4`, `g_width=16`, `beta1=0.9` or
# `batch_size=16`, and compare the numbers with the book's run; 300 steps are too
# few for recognisable digits, so compare variants with each other.

# %%
variant = book_config(steps=300, history_samples=())
variant_history = cached(train)(variant)
variant_report = score_samples(classifier, generate(variant_history, 1000, seed=1))
print(f"classes covered: {variant_report.covered_classes} / 10, "
      f"mean top-class probability {variant_report.mean_top_probability:.3f}, "
      f"Fréchet distance {variant_report.frechet_distance:.1f}")
plt.figure(figsize=(4, 4))
plt.imshow(make_grid(variant_history.samples[variant.steps], ncols=8), cmap="gray")
plt.axis("off")
plt.show()
