# %% [markdown]
# # Lab: the exactly solvable 1-D LS-GAN
#
# [Download this lab as a notebook](lsgan1d.ipynb) and run it with `gan_book`
# installed (`pip install -e .` in the book's repository).
#
# Pick a starting point $(a, b, g, h)$, a data rate $c$ and a step size $\epsilon$. The
# lab runs the exact gradient ascent-descent of the chapter
# [An exactly solvable 1-D LS-GAN](../chapters/lsgan1d.md), draws the path on the cost
# surface $J(b, h)$, compares it with stochastic runs, and reports where the generator
# stops and $\mathrm{KL}(p_X \| p_g)$ there.

# %%
import numpy as np

from gan_book.lsgan1d import DOMAIN, cost_and_gradient, kl_divergence, trajectory

# Change these lines. Every value must lie in DOMAIN (printed below).
START = (2.2, -3.0, 1.5, -2.0)  # a, b, g, h: case A of Pulford and Kondrashov (2021)
C = 0.5  # data rate; the target generator is g* = 1/c, h* = 0
STEP_SIZE = 0.4
STEPS = 249
FREE = ("a", "b", "g", "h")  # ("b", "h") for the 2-D variant

print("verified domain:", DOMAIN)
start = cost_and_gradient(*START, C)
print(f"J at the start = {float(start.cost):.6f}, gradient = {np.round(start.gradient, 6)}")

# %% [markdown]
# ## The exact path

# %%
path = trajectory(START, C, step_size=STEP_SIZE, steps=STEPS, free=FREE)
a_end, b_end, g_end, h_end = path.params[-1]
print(f"final (a, b, g, h) = ({a_end:.4f}, {b_end:.4f}, {g_end:.4f}, {h_end:.4f})")
print(f"final J = {path.cost[-1]:.6f}, largest |gradient| = {np.abs(path.gradient[-1]).max():.2e}")
print(f"target g* = {1 / C:.4f}, h* = 0; KL(p_X || p_g) at the end = "
      f"{kl_divergence(g_end, h_end, C):.4f}")

# %%
import matplotlib.pyplot as plt

from gan_book.lsgan1d import cost_surface

b_grid = np.linspace(min(path.params[:, 1].min(), -6) - 1, max(path.params[:, 1].max(), 6) + 1, 121)
h_grid = np.linspace(min(path.params[:, 3].min(), -6) - 1, max(path.params[:, 3].max(), 4) + 1, 121)
b_grid = np.clip(b_grid, *DOMAIN["b"])
h_grid = np.clip(h_grid, *DOMAIN["h"])
surface = cost_surface(b_grid, h_grid, a=START[0], g=START[2], c=C)

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
image = left.contourf(b_grid, h_grid, surface.T, levels=30, cmap="viridis")
left.plot(path.params[:, 1], path.params[:, 3], "w-")
left.plot(START[1], START[3], "ro")
left.set_xlabel("b")
left.set_ylabel("h")
left.set_title("J(b, h) at the starting a, g; path projected")
fig.colorbar(image, ax=left)
for i, name in enumerate("abgh"):
    right.plot(path.params[:, i], label=name)
right.plot(path.cost, "k--", label="J")
right.set_xlabel("iterate")
right.legend()
plt.show()

# %% [markdown]
# ## Stochastic runs beside the exact path
#
# Fifty runs of 1,000 samples each, drawn once per run as in the authors' code. Set
# `RESAMPLE = True` to draw fresh samples at every step instead.

# %%
from gan_book.lsgan1d import sgd_trajectory

RESAMPLE = False
runs = sgd_trajectory(START, C, step_size=STEP_SIZE, steps=STEPS, free=FREE, runs=50,
                      samples=1000, seed=0, resample=RESAMPLE)
mean = runs.params.mean(axis=1)
standard_error = runs.params.std(axis=1, ddof=1) / np.sqrt(50)
z = np.abs(mean[10::10] - path.params[10::10]) / np.maximum(standard_error[10::10], 1e-300)
print(f"largest |mean - exact| / standard error at every tenth iterate: {z.max():.2f}")

fig, axis = plt.subplots(figsize=(7, 3.5), layout="constrained")
for i, name in ((1, "b"), (3, "h")):
    axis.plot(runs.params[:, :, i], color="C0" if i == 1 else "C1", alpha=0.1)
    axis.plot(path.params[:, i], "k", label=f"{name}, exact")
axis.set_xlabel("iterate")
axis.legend()
plt.show()

# %% [markdown]
# ## Curvature at the end
#
# The discriminator block of the Hessian (in $a, b$) and the generator block (in $g, h$).
# Generator eigenvalues near zero mean the generator sees a flat floor: the plateau.

# %%
from gan_book.lsgan1d import hessian_report

report = hessian_report(path.params[-1], C)
print("discriminator block eigenvalues:", report.discriminator)
print("generator block eigenvalues:   ", report.generator)
print("full Hessian eigenvalues:      ", report.full)
