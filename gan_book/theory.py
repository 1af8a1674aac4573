r"""The adversarial game of Goodfellow et al. for one-dimensional densities.

Backs the chapter "The adversarial game". Source: I. Goodfellow, J. Pouget-Abadie,
M. Mirza, B. Xu, D. Warde-Farley, S. Ozair, A. Courville and Y. Bengio, "Generative
Adversarial Nets", NeurIPS 2014 (value function, Proposition 1, Theorem 1, and the
non-saturating generator loss of their Section 3).

Densities are frozen `scipy.stats` continuous distributions (for example
`scipy.stats.norm(0, 1)`); integrals over $x$ are computed by adaptive quadrature
(`scipy.integrate.quad`) on the union of the two distributions' effective supports,
split at the points where either density has a kink or a jump.

Symbols and arguments: $p_{data}$ is `data`, $p_g$ is `generated`, $D$ is
given by its logit $\ell$ (`logit`, a vectorised function of $x$) with
$D = \sigma(\ell)$.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import integrate, optimize, special, stats

LOG_4 = float(np.log(4.0))
LOG_2 = float(np.log(2.0))

# Mass left outside the integration range in each tail of each distribution.
TAIL_MASS = 1e-14
# Tail probabilities whose quantiles become quadrature breakpoints.
BULK_QUANTILES = (1e-12, 1e-9, 1e-6, 1e-3, 0.1, 0.5)

Logit = Callable[[np.ndarray], np.ndarray]


def _check_distribution(value: object, name: str) -> stats.rv_continuous:
    if not hasattr(value, "pdf") or not hasattr(value, "logpdf") or not hasattr(value, "ppf"):
        raise ValueError(
            f"{name} must be a frozen scipy.stats continuous distribution such as "
            f"scipy.stats.norm(0, 1); got {value!r}"
        )
    with np.errstate(all="ignore"):
        quartiles = np.asarray(value.ppf([0.25, 0.75]), dtype=float)
    if not (np.all(np.isfinite(quartiles)) and quartiles[1] > quartiles[0]):
        raise ValueError(
            f"{name} is degenerate or has invalid parameters (its quartiles are "
            f"{quartiles.tolist()}); pass a distribution with a density, such as a "
            "positive scale"
        )
    return value  # type: ignore[return-value]


def _integration_pieces(*distributions: stats.rv_continuous) -> list[tuple[float, float]]:
    """Split the union of the distributions' effective supports into quadrature pieces.

    Breakpoints are the ends of each effective support, so that `quad` never has to
    discover a jump in a density on its own, and quantiles of each distribution from
    its bulk out to its tails, so that a heavy tail (a Cauchy's reaches 1e13) is cut into
    pieces on which the density varies by a bounded factor. Pieces where every density
    is zero are dropped.
    """
    ends: set[float] = set()
    quantiles: set[float] = set()
    for distribution in distributions:
        low, high = distribution.support()
        low = low if np.isfinite(low) else distribution.ppf(TAIL_MASS)
        high = high if np.isfinite(high) else distribution.isf(TAIL_MASS)
        ends.update((float(low), float(high)))
        for quantile in BULK_QUANTILES:
            quantiles.update((float(distribution.ppf(quantile)), float(distribution.isf(quantile))))
    candidates = sorted([(point, True) for point in ends]
                        + [(point, False) for point in quantiles - ends if np.isfinite(point)])
    # Breakpoints closer than this, relative to their size, are one point: a sliver
    # between two nearly equal breakpoints makes quad report bad integrand behaviour.
    # A support end, where a density may jump, wins over a quantile next to it.
    ordered: list[float] = []
    kept_is_end: list[bool] = []
    for point, is_end in candidates:
        if ordered and point - ordered[-1] <= 1e-9 * max(1.0, abs(point)):
            if is_end and not kept_is_end[-1]:
                ordered[-1], kept_is_end[-1] = point, True
            continue
        ordered.append(point)
        kept_is_end.append(is_end)
    pieces = []
    for low, high in zip(ordered[:-1], ordered[1:]):
        middle = 0.5 * (low + high)
        if any(distribution.pdf(middle) > 0 for distribution in distributions):
            pieces.append((low, high))
    return pieces


def _integrate(function: Callable[[float], float], *distributions: stats.rv_continuous) -> float:
    total = 0.0
    for low, high in _integration_pieces(*distributions):
        value, _ = integrate.quad(function, low, high, limit=200, epsabs=1e-13, epsrel=1e-11)
        total += value
    return total


def optimal_discriminator(p_data: np.ndarray, p_generated: np.ndarray) -> np.ndarray:
    r"""Return Proposition 1's optimal discriminator $D^*_G(x) = p_{data}/(p_{data} + p_g)$.

    `p_data` and `p_generated` are density values $p_{data}(x)$ and $p_g(x)$ at the same
    points. Where both are zero the formula has no value and the result is NaN by
    design: $D^*$ is then arbitrary, because those points carry no mass.
    """
    p_data = np.asarray(p_data, dtype=float)
    p_generated = np.asarray(p_generated, dtype=float)
    for name, values in (("p_data", p_data), ("p_generated", p_generated)):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} must be finite density values; got {values[~np.isfinite(values)][:3].tolist()}")
        if np.any(values < 0):
            raise ValueError(f"{name} must be non-negative density values; got {values[values < 0][:3].tolist()}")
    total = p_data + p_generated
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), np.nan)


def optimal_logit_for(data: stats.rv_continuous, generated: stats.rv_continuous) -> Logit:
    r"""Return the logit of $D^*_G$, $\ell^*(x) = \log p_{data}(x) - \log p_g(x)$.

    Working with log densities keeps the ratio exact far in the tails, where both
    densities underflow; the logit is $\pm\infty$ where one density is zero.
    """
    data = _check_distribution(data, "data")
    generated = _check_distribution(generated, "generated")

    def logit(x: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return data.logpdf(x) - generated.logpdf(x)

    return logit


def optimal_discriminator_for(data: stats.rv_continuous,
                              generated: stats.rv_continuous) -> Callable[[np.ndarray], np.ndarray]:
    r"""Return $D^*_G = \sigma(\ell^*)$ for two distributions as a function of $x$."""
    logit = optimal_logit_for(data, generated)
    return lambda x: special.expit(logit(x))


def value_function(logit: Logit, data: stats.rv_continuous,
                   generated: stats.rv_continuous) -> float:
    r"""Return $V(D, G) = E_{p_{data}}[\log D(x)] + E_{p_g}[\log(1 - D(x))]$ by quadrature.

    The discriminator is given by its logit $\ell$ (`logit`), $D = \sigma(\ell)$, so
    that $\log D = -\mathrm{softplus}(-\ell)$ and $\log(1 - D) = -\mathrm{softplus}(\ell)$
    stay finite where $D$ rounds to 0 or 1. The generator enters through its
    distribution $p_g$ (`generated`): the push-forward
    $E_z[\log(1 - D(G(z)))] = E_{p_g}[\log(1 - D(x))]$.
    """
    data = _check_distribution(data, "data")
    generated = _check_distribution(generated, "generated")

    def integrand(x: float) -> float:
        value = float(logit(np.array(x)))
        p, q = data.pdf(x), generated.pdf(x)
        # 0 * log 0 = 0: a point without mass contributes nothing, whatever D is there.
        real_term = -p * np.logaddexp(0.0, -value) if p > 0 else 0.0
        fake_term = -q * np.logaddexp(0.0, value) if q > 0 else 0.0
        return real_term + fake_term

    return _integrate(integrand, data, generated)


def jensen_shannon(data: stats.rv_continuous, generated: stats.rv_continuous) -> float:
    r"""Return $\mathrm{JSD}(p_{data} \| p_g)$ in nats, by quadrature.

    $\mathrm{JSD} = \tfrac12 \mathrm{KL}(p_{data} \| m) + \tfrac12 \mathrm{KL}(p_g \| m)$
    with $m = (p_{data} + p_g)/2$. The integrand is formed from log densities with
    `logaddexp`, so disjoint supports give exactly $\log 2$ and no $0 \log 0$ NaN.
    """
    data = _check_distribution(data, "data")
    generated = _check_distribution(generated, "generated")

    def integrand(x: float) -> float:
        log_p, log_q = data.logpdf(x), generated.logpdf(x)
        log_mixture = np.logaddexp(log_p, log_q) - LOG_2
        total = 0.0
        if np.isfinite(log_p):
            total += 0.5 * np.exp(log_p) * (log_p - log_mixture)
        if np.isfinite(log_q):
            total += 0.5 * np.exp(log_q) * (log_q - log_mixture)
        return total

    return _integrate(integrand, data, generated)


def virtual_training_criterion(data: stats.rv_continuous,
                               generated: stats.rv_continuous) -> float:
    r"""Return $C(G) = \max_D V(D, G) = V(D^*_G, G)$, by quadrature of $V$ at $D^*$."""
    return value_function(optimal_logit_for(data, generated), data, generated)


def criterion_from_jsd(data: stats.rv_continuous, generated: stats.rv_continuous) -> float:
    r"""Return Theorem 1's form $C(G) = -\log 4 + 2\,\mathrm{JSD}(p_{data} \| p_g)$."""
    return -LOG_4 + 2.0 * jensen_shannon(data, generated)


@dataclass(frozen=True)
class FittedDiscriminator:
    r"""A discriminator found by maximising V numerically, and the value it reaches.

    `coefficients` are $(w_0, w_1, w_2)$ of the logit $\ell(x) = w_0 + w_1 x + w_2 x^2$.
    """

    coefficients: tuple[float, float, float]
    value: float

    def logit(self, x: np.ndarray) -> np.ndarray:
        w0, w1, w2 = self.coefficients
        x = np.asarray(x, dtype=float)
        return w0 + w1 * x + w2 * x * x

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return special.expit(self.logit(x))


def _composite_gauss_legendre(pieces: list[tuple[float, float]], *, panels: int = 64,
                              order: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Return nodes and weights of composite Gauss-Legendre rules over `pieces`."""
    unit_nodes, unit_weights = np.polynomial.legendre.leggauss(order)
    nodes, weights = [], []
    for low, high in pieces:
        edges = np.linspace(low, high, panels + 1)
        half_width = 0.5 * np.diff(edges)[:, None]
        centres = 0.5 * (edges[:-1] + edges[1:])[:, None]
        nodes.append((centres + half_width * unit_nodes).ravel())
        weights.append((half_width * unit_weights).ravel())
    return np.concatenate(nodes), np.concatenate(weights)


def fit_quadratic_logit_discriminator(data: stats.rv_continuous,
                                      generated: stats.rv_continuous) -> FittedDiscriminator:
    r"""Maximise $V(D, G)$ over discriminators $D = \sigma(w_0 + w_1 x + w_2 x^2)$.

    This does not use Proposition 1: it searches the family directly with BFGS on
    $-V$. $V$ and its gradient are integrated with a composite Gauss-Legendre rule
    (64 panels of 24 nodes on each piece of the effective supports), not with the
    adaptive quadrature of `jensen_shannon`, so the two computations share no code
    path. For two Gaussians $\log(p_{data}/p_g)$ is quadratic in $x$, so $D^*_G$ lies
    in this family and the maximum equals $C(G)$.
    """
    data = _check_distribution(data, "data")
    generated = _check_distribution(generated, "generated")
    x, weights = _composite_gauss_legendre(_integration_pieces(data, generated))
    weighted_p = weights * data.pdf(x)
    weighted_q = weights * generated.pdf(x)
    features = np.stack([np.ones_like(x), x, x * x])

    def negative_value_and_gradient(coefficients: np.ndarray) -> tuple[float, np.ndarray]:
        logit = coefficients @ features
        # log D = -softplus(-l) and log(1 - D) = -softplus(l); their l-derivatives are
        # 1 - D and -D.
        value = -weighted_p @ np.logaddexp(0.0, -logit) - weighted_q @ np.logaddexp(0.0, logit)
        d = special.expit(logit)
        gradient = features @ (weighted_p * (1.0 - d) - weighted_q * d)
        return -value, -gradient

    result = optimize.minimize(negative_value_and_gradient, np.zeros(3), jac=True,
                               method="BFGS", options={"gtol": 1e-11, "maxiter": 1000})
    if not result.success and result.status != 2:  # 2: precision loss at the optimum
        raise RuntimeError(f"maximising V over the quadratic-logit family failed: {result.message}")
    return FittedDiscriminator(tuple(float(w) for w in result.x), float(-result.fun))


def saturating_generator_loss(logit: np.ndarray) -> np.ndarray:
    r"""Return the saturating generator loss $\log(1 - D)$ with $D = \sigma(\ell)$.

    The generator minimises it, as in the minimax game. Computed as
    $-\mathrm{softplus}(\ell)$, which stays finite for logits of any size.
    """
    return -np.logaddexp(0.0, np.asarray(logit, dtype=float))


def non_saturating_generator_loss(logit: np.ndarray) -> np.ndarray:
    r"""Return the non-saturating generator loss $-\log D$ with $D = \sigma(\ell)$.

    Computed as $\mathrm{softplus}(-\ell)$.
    """
    return np.logaddexp(0.0, -np.asarray(logit, dtype=float))


def saturating_loss_gradient(logit: np.ndarray) -> np.ndarray:
    r"""Return $\partial_\ell \log(1 - \sigma(\ell)) = -D$: it vanishes as $D \to 0$."""
    return -special.expit(np.asarray(logit, dtype=float))


def non_saturating_loss_gradient(logit: np.ndarray) -> np.ndarray:
    r"""Return $\partial_\ell(-\log \sigma(\ell)) = -(1 - D)$: it tends to $-1$ as $D \to 0$."""
    return -special.expit(-np.asarray(logit, dtype=float))
