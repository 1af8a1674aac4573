# %% [markdown]
# # Lab: the optimal discriminator and Theorem 1
#
# [Download this lab as a notebook](adversarial-game.ipynb) and run it with
# `gan_book` installed (`pip install -e .` in the book's repository).
#
# Pick a data distribution and a generator distribution, both one-dimensional. The lab
# draws $p_{data}$, $p_g$ and the optimal discriminator
# $D^*_G = p_{data} / (p_{data} + p_g)$, then computes the virtual training criterion
# $C(G) = \max_D V(D, G)$ two ways: as $-\log 4 + 2\,\mathrm{JSD}(p_{data} \| p_g)$ and
# by maximising $V$ directly over discriminators $\sigma(w_0 + w_1 x + w_2 x^2)$.

# %%
import numpy as np
from scipy import stats

from gan_book import theory

# Change these two lines: any frozen scipy.stats continuous distributions work.
data = stats.norm(0.0, 1.0)
generated = stats.norm(1.0, 0.6)

# %% [markdown]
# ## The densities and the optimal discriminator

# %%
import matplotlib.pyplot as plt

x = np.linspace(-4.0, 4.0, 500)
d_star = theory.optimal_discriminator_for(data, generated)
fig, axis = plt.subplots(figsize=(7, 3.5))
axis.plot(x, data.pdf(x), label="$p_{data}$")
axis.plot(x, generated.pdf(x), label="$p_g$")
axis.plot(x, d_star(x), linestyle="--", label="$D^*_G$")
axis.axhline(0.5, color="gray", linewidth=0.8)
axis.set_xlabel("x")
axis.legend()
plt.show()

# %% [markdown]
# ## Theorem 1, two ways
#
# For Gaussians both numbers agree to about $10^{-10}$; for other families the
# quadratic-logit search is only a lower bound on $C(G)$, because $D^*_G$ may lie
# outside that family.

# %%
from_jsd = theory.criterion_from_jsd(data, generated)
fitted = theory.fit_quadratic_logit_discriminator(data, generated)
print(f"-log 4 + 2 JSD        = {from_jsd:.10f}")
print(f"max over sigma(quad.) = {fitted.value:.10f}")
print(f"-log 4                = {-theory.LOG_4:.10f}")
