r"""The missing condition $\dim z \ge \dim x$ in the optimal-discriminator result.

Backs the chapter "When the generator has fewer dimensions than the data"
(docs/chapters/dimension.md). Sources: I. Goodfellow et al., "Generative Adversarial
Nets", NeurIPS 2014 (Proposition 1, Theorem 1); G. W. Pulford and K. Kondrashov,
"Convergence and Optimality Analysis of Low-Dimensional Generative Adversarial Networks
Using Error Function Integrals", IEEE Access 9 (2021), which states that Proposition 1
needs $\dim z \ge \dim x$; M. Arjovsky and L. Bottou, "Towards Principled Methods for
Training Generative Adversarial Networks", ICLR 2017 (singular supports, instance noise).

The counterexample: data $x \sim \mathcal N(0, I_2)$, latent $z \sim \mathcal N(0, 1)$,
generator $G_\theta(z) = (z, \theta z)$, whose output lives on the line
$L_\theta = \{x_2 = \theta x_1\}$. Symbols and arguments: $\theta$ is `theta`, the width
$s$ of the smooth discriminators $D_s$ is `s`, the instance-noise scale $\sigma$ is
`sigma`, $\varepsilon$ is `epsilon`.

Two facts make most quantities one- or two-dimensional integrals. The data law is
rotation invariant, so in the frame $(a, b)$ whose first axis runs along $L_\theta$ the
data are $\mathcal N(0, I_2)$ and the generated points are $(r z, 0)$ with
$r = \sqrt{1 + \theta^2}$. With instance noise of scale $\sigma$ both laws are centred
Gaussians that are diagonal in that frame.

The contrast case with $\dim z = \dim x = 1$ uses the 1-D LS-GAN model of
`gan_book.lsgan1d.model` (generator $G(z) = g z^2 + h$, data rate $c$).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.laguerre import laggauss
from numpy.polynomial.legendre import leggauss
from scipy import integrate, optimize, special, stats
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from gan_book.lsgan1d import model as lsgan_model

LOG_2 = math.log(2.0)

# The smooth family approaches its supremum 0 at the rate zeta(3/2) * s.
SMOOTH_FAMILY_RATE = float(special.zeta(1.5))

# The score-function terms of the derivative estimate have heavy tails, so its
# normal-approximation interval is only used from this many samples on. The threshold
# is a convention, not a computed bound.
MIN_NORMAL_APPROXIMATION_SAMPLES = 1000


# --------------------------------------------------------------------------------------
# Input checks


def _finite(name: str, value) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {name}={value!r}.")
    return number


def _positive(name: str, value) -> float:
    number = _finite(name, value)
    if number <= 0:
        raise ValueError(
            f"{name} must be positive, got {name}={value!r}; pass a value greater than 0."
        )
    return number


def _confidence(value) -> float:
    level = _finite("confidence", value)
    if not 0 < level < 1:
        raise ValueError(
            f"confidence must lie strictly between 0 and 1, got confidence={value!r}; "
            "pass for example 0.95."
        )
    return level


def _count(name: str, value, minimum: int, reason: str) -> int:
    if isinstance(value, bool) or int(value) != value:
        raise ValueError(f"{name} must be an integer, got {name}={value!r}.")
    count = int(value)
    if count < minimum:
        raise ValueError(
            f"{name}={count} is too small: {reason}; pass {name} >= {minimum}."
        )
    return count


def _points(x) -> np.ndarray:
    """Return `x` as a float array of points in the plane (last axis of length 2)."""
    array = np.asarray(x, dtype=float)
    if array.ndim == 0 or array.shape[-1] != 2:
        raise ValueError(
            "dimension mismatch: the counterexample's data space is R^2, so x needs a "
            f"last axis of length 2, got an array of shape {array.shape}."
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("x must contain finite coordinates only.")
    return array


# --------------------------------------------------------------------------------------
# The singular counterexample


def line_generator(z, theta: float) -> np.ndarray:
    r"""Map latent values to the plane: $G_\theta(z) = (z, \theta z)$.

    The arguments `z` and `theta` are the latent value(s) $z$ and the slope $\theta$.
    Returns an array of shape `z.shape + (2,)`.
    """
    theta = _finite("theta", theta)
    z = np.asarray(z, dtype=float)
    return np.stack([z, theta * z], axis=-1)


def distance_to_line(x, theta: float) -> np.ndarray:
    r"""Return $\operatorname{dist}(x, L_\theta) = |x_2 - \theta x_1| / \sqrt{1 + \theta^2}$.

    The arguments `x` (points, last axis of length 2) and `theta` are $x$ and $\theta$.
    """
    x = _points(x)
    theta = _finite("theta", theta)
    return np.abs(x[..., 1] - theta * x[..., 0]) / math.hypot(1.0, theta)


def data_mass_near_line(epsilon: float) -> float:
    r"""Return $P_{data}(\operatorname{dist}(x, L_\theta) < \varepsilon) = \operatorname{erf}(\varepsilon/\sqrt2)$.

    The argument `epsilon` is the tube radius $\varepsilon > 0$. The value does not
    depend on $\theta$ because $\mathcal N(0, I_2)$ is rotation invariant, and it tends to
    0 like $\varepsilon\sqrt{2/\pi}$: the line has data measure zero.
    """
    epsilon = _positive("epsilon", epsilon)
    return float(special.erf(epsilon / math.sqrt(2.0)))


def singular_optimal_discriminator(x, theta: float, *, atol: float = 1e-12) -> np.ndarray:
    r"""Return $D^* = dP_{data}/d(P_{data} + P_g)$ for the singular pair: 0 on $L_\theta$, else 1.

    The arguments `x`, `theta` are the points $x$ and the slope $\theta$. A point counts
    as on the line when its distance to it is at most `atol`. The Radon-Nikodym
    derivative is determined only up to sets of measure zero under $P_{data} + P_g$.
    The tolerance changes the value only on a band that carries data probability
    `data_mass_near_line(atol)`, about `0.8 * atol`, and absorbs rounding in points
    that were computed to lie on the line.
    """
    atol = _finite("atol", atol)
    return np.where(distance_to_line(x, theta) <= atol, 0.0, 1.0)


def sample_counterexample(theta: float, n_samples: int, seed: int,
                          sigma: float = 0.0, *, noise_on_data: bool = True):
    r"""Draw `n_samples` data points and generated points, optionally with instance noise.

    The arguments `theta` and `sigma` are $\theta$ and the instance-noise scale
    $\sigma \ge 0$ (0 means none). With `noise_on_data` the noise is added to the data
    too, as instance noise is used in practice. Returns `(x_data, x_generated)`, each of
    shape `(n_samples, 2)`.
    """
    theta = _finite("theta", theta)
    sigma = _finite("sigma", sigma)
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got sigma={sigma!r}.")
    n_samples = _count("n_samples", n_samples, 1, "at least one sample is needed")
    rng = np.random.default_rng(seed)
    x_data = rng.standard_normal((n_samples, 2))
    x_generated = line_generator(rng.standard_normal(n_samples), theta)
    if sigma > 0:
        x_generated = x_generated + sigma * rng.standard_normal((n_samples, 2))
        if noise_on_data:
            x_data = x_data + sigma * rng.standard_normal((n_samples, 2))
    return x_data, x_generated


def jensen_shannon_from_discriminator(d_real, d_fake) -> float:
    r"""Return $\tfrac12(V(D) + \log 4)$ from a discriminator's outputs on samples.

    The arguments `d_real` and `d_fake` are $D(x)$ on data samples and on generated
    samples. With $D = D^*$ this is the Jensen-Shannon divergence (Theorem 1 of
    Goodfellow et al. in measure form); with any other $D$ it is a lower bound in
    expectation.
    """
    d_real = np.asarray(d_real, dtype=float)
    d_fake = np.asarray(d_fake, dtype=float)
    if d_real.size == 0 or d_fake.size == 0:
        raise ValueError("d_real and d_fake must each contain at least one value.")
    if np.any((d_real < 0) | (d_real > 1)) or np.any((d_fake < 0) | (d_fake > 1)):
        raise ValueError("discriminator outputs must lie in [0, 1].")
    with np.errstate(divide="ignore"):
        value = np.mean(np.log(d_real)) + np.mean(np.log1p(-d_fake))
    return float(0.5 * (value + math.log(4.0)))


# --------------------------------------------------------------------------------------
# The smooth discriminators D_s


def smooth_discriminator(x, theta: float, s: float) -> np.ndarray:
    r"""Return $D_s(x) = 1 - \exp(-\operatorname{dist}(x, L_\theta)^2 / 2 s^2)$.

    The arguments `x`, `theta`, `s` are the points $x$, the slope $\theta$ and the width
    $s > 0$. $D_s$ is 0 on the line, tends to 1 away from it, and is smooth.
    """
    s = _positive("s", s)
    return -np.expm1(-np.square(distance_to_line(x, theta)) / (2.0 * s * s))


def smooth_family_value(s: float, *, terms: int = 2000) -> float:
    r"""Return $V(D_s, G_\theta) = -s \sum_{k\ge1} 1/(k\sqrt{k + s^2})$ for every $\theta$.

    The argument `s` is the width $s > 0$. On the line $D_s = 0$, so the generator term
    $\mathbb E_z \log(1 - D_s(G_\theta(z)))$ is exactly 0; the data term is
    $\mathbb E_u \log(1 - e^{-u^2/2s^2})$ with $u \sim \mathcal N(0, 1)$ the signed
    distance to the line. Expanding $\log(1 - y) = -\sum_k y^k/k$ and
    $\mathbb E\, e^{-k u^2/2s^2} = s/\sqrt{s^2 + k}$ gives the series. The first `terms`
    terms are summed. The rest is replaced by the integral of the summand from
    `terms + 1/2` to infinity plus the Euler-Maclaurin midpoint correction $f'/24$ there.
    The remaining error is of order `terms ** -4.5`.
    """
    s = _positive("s", s)
    terms = _count("terms", terms, 10, "the tail estimate needs a few exact terms first")
    k = np.arange(1, terms + 1, dtype=float)
    head = np.sum(1.0 / (k * np.sqrt(k + s * s)))
    start = terms + 0.5
    # The integral of 1/(k sqrt(k + s^2)) from `start` on is (2/s) artanh(s/sqrt(start + s^2)).
    tail = 2.0 / s * math.atanh(s / math.sqrt(start + s * s))
    slope = -1.0 / (start**2 * math.sqrt(start + s * s)) - 0.5 / (start * (start + s * s) ** 1.5)
    tail += slope / 24.0
    return -s * (head + tail)


def smooth_family_value_quadrature(s: float) -> float:
    r"""Return $\mathbb E_u \log(1 - e^{-u^2/2s^2})$, $u \sim \mathcal N(0,1)$, by adaptive quadrature.

    The argument `s` is the width $s > 0$. This is the direct numerical integral behind
    `smooth_family_value`. The integrand has an integrable logarithmic singularity at
    $u = 0$, and the split at $u = s$ isolates it.
    """
    s = _positive("s", s)

    def integrand(u: float) -> float:
        return 2.0 * stats.norm.pdf(u) * math.log(-math.expm1(-u * u / (2.0 * s * s)))

    pieces = [(0.0, s), (s, 10.0 * s), (10.0 * s, max(40.0 * s, 40.0))]
    return float(sum(integrate.quad(integrand, low, high, limit=200, epsabs=1e-13)[0]
                     for low, high in pieces))


def _graded_nodes(half_width: float, smallest: float, nodes: int = 12):
    """Return Gauss-Legendre nodes and weights on [-half_width, half_width], graded
    geometrically towards 0 (panel edges at +-smallest * 2^k) for a singularity there."""
    count = max(1, math.ceil(math.log2(half_width / smallest)))
    edges = np.concatenate([[0.0], smallest * 2.0 ** np.arange(count), [half_width]])
    edges = np.unique(np.clip(edges, 0.0, half_width))
    reference, reference_weights = leggauss(nodes)
    widths = np.diff(edges)
    points = (edges[:-1, None] + widths[:, None] * (reference[None, :] + 1.0) / 2.0).ravel()
    weights = (widths[:, None] * reference_weights[None, :] / 2.0).ravel()
    return np.concatenate([-points[::-1], points]), np.concatenate([weights[::-1], weights])


def smooth_family_value_plane(theta: float, s: float) -> float:
    r"""Return $V(D_s, G_\theta)$ by integrating over the plane and over $z$ directly.

    The arguments `theta` and `s` are $\theta$ and $s > 0$. The data term
    $\int \phi_2(x) \log D_s(x)\, dx$ is integrated in the original coordinates: composite
    Gauss-Legendre in $x_1$ over $[-10, 10]$, and in $x_2 = \theta x_1 + t$ panels graded
    geometrically towards the line $t = 0$, where $\log D_s$ has a logarithmic
    singularity. The generator term uses 80-point Gauss-Hermite quadrature in $z$. It
    exists to check `smooth_family_value` without the rotation argument.
    """
    theta = _finite("theta", theta)
    s = _positive("s", s)
    x1, w1 = _legendre_panels(10.0, 40, 16)
    t, wt = _graded_nodes(10.0 * (1.0 + abs(theta)), 1e-9 * s)
    x1, t = x1[:, None], t[None, :]
    x2 = theta * x1 + t
    density = np.exp(-0.5 * (x1**2 + x2**2)) / (2.0 * math.pi)
    points = np.stack(np.broadcast_arrays(x1, x2), axis=-1)
    log_d = np.log(smooth_discriminator(points, theta, s))
    data_value = np.sum(w1[:, None] * wt[None, :] * density * log_d)
    nodes, weights = special.roots_hermitenorm(80)
    on_line = smooth_discriminator(line_generator(nodes, theta), theta, s)
    generator_value = np.sum(weights * np.log1p(-on_line)) / math.sqrt(2.0 * math.pi)
    return float(data_value + generator_value)


# --------------------------------------------------------------------------------------
# Instance noise: both laws get densities


def noisy_covariances(theta: float, sigma: float, *, noise_on_data: bool = True):
    r"""Return the covariances of the noisy data and noisy generated laws.

    The arguments `theta`, `sigma` are $\theta$ and $\sigma > 0$. The generated law is
    $\mathcal N(0, \Sigma_\theta + \sigma^2 I)$ with
    $\Sigma_\theta = \begin{pmatrix}1 & \theta\\ \theta & \theta^2\end{pmatrix}$; the data
    law is $\mathcal N(0, (1 + \sigma^2) I)$ with `noise_on_data`, else $\mathcal N(0, I)$.
    """
    theta = _finite("theta", theta)
    sigma = _positive("sigma", sigma)
    generated = np.array([[1.0, theta], [theta, theta * theta]]) + sigma**2 * np.eye(2)
    data = (1.0 + (sigma**2 if noise_on_data else 0.0)) * np.eye(2)
    return data, generated


def noisy_optimal_discriminator(x, theta: float, sigma: float, *,
                                noise_on_data: bool = True) -> np.ndarray:
    r"""Return $D^*_\sigma(x) = p_\sigma(x) / (p_\sigma(x) + q_\sigma(x))$ for the noisy laws.

    The arguments `x`, `theta`, `sigma` are the points $x$, $\theta$ and $\sigma > 0$;
    $p_\sigma$ and $q_\sigma$ are the densities of `noisy_covariances`. Computed as
    the logistic function of $\log p_\sigma - \log q_\sigma$, which never divides 0 by 0.
    """
    x = _points(x)
    data, generated = noisy_covariances(theta, sigma, noise_on_data=noise_on_data)
    log_p = stats.multivariate_normal(np.zeros(2), data).logpdf(x)
    log_q = stats.multivariate_normal(np.zeros(2), generated).logpdf(x)
    return special.expit(log_p - log_q)


@dataclass(frozen=True)
class NoisyDivergence:
    r"""Jensen-Shannon divergence of the noisy pair and its $\theta$-derivative.

    `jensen_shannon_error` and `derivative_error` are the changes when the quadrature
    doubles its nodes per panel, an estimate of the quadrature error.
    `score_term_std` is the standard deviation of one sample of the score-function
    estimator of the derivative, so an average of $n$ samples has standard error
    `score_term_std / sqrt(n)`. `stretch_term_std` is the same for an estimator that uses
    the line's direction and keeps only the part of the score that stretches the
    law along the line. Both estimators have the same mean.
    """

    theta: float
    sigma: float
    noise_on_data: bool
    jensen_shannon: float
    jensen_shannon_error: float
    derivative: float
    derivative_error: float
    score_term_std: float
    stretch_term_std: float


def _legendre_panels(half_width: float, panels: int, nodes: int, finest: float = 1.0):
    """Return nodes and weights of composite Gauss-Legendre on [-half_width, half_width].

    The panels are equal, plus extra edges at +-finest * 2^k below 1 when `finest` is
    below 0.1, so that a narrow feature around 0 is resolved. Wider features need no
    extra edges.
    """
    reference, reference_weights = leggauss(nodes)
    edges = np.linspace(-half_width, half_width, panels + 1)
    if finest < 0.1:
        graded = finest * 2.0 ** np.arange(math.ceil(math.log2(1.0 / finest)))
        edges = np.unique(np.concatenate([edges, graded, -graded]))
    widths = np.diff(edges)
    points = (edges[:-1, None] + widths[:, None] * (reference[None, :] + 1.0) / 2.0).ravel()
    weights = (widths[:, None] * reference_weights[None, :] / 2.0).ravel()
    return points, weights


def _noisy_quadrature(theta: float, sigma: float, noise_on_data: bool, nodes: int):
    r"""Return JS, dJS/dtheta and two second moments by tensor Gauss-Legendre quadrature.

    Integrates over the generated law in whitened coordinates $u$:
    $a = \sqrt v\, u_1$ along the line and $b = \sigma u_2$ across it, with
    $v = 1 + \theta^2 + \sigma^2$. With $R = p/q$,
    $\mathrm{JS} = \log 2 - \tfrac12 \mathbb E_q[(1+R)\log(1+R) - R\log R]$ and
    $\partial_\theta \mathrm{JS} = -\tfrac12 \mathbb E_q[\partial_\theta \log q \cdot \log(1+R)]$.
    The second moments are those of one sample of that derivative estimate, with the
    whole score and with its stretching part alone.
    """
    v = 1.0 + theta * theta + sigma * sigma
    v_data = 1.0 + (sigma * sigma if noise_on_data else 0.0)
    # Across the line R = p/q crosses 1 near |u_2| = sqrt(2 log(sqrt(v_data)/sigma)); the
    # box reaches 10 standard deviations beyond that, where the Gaussian weight is 2e-22.
    crossing = math.sqrt(max(0.0, 2.0 * math.log(math.sqrt(v_data) / sigma)))
    # When the data law is narrower than the generated one (noise on the generated
    # samples only, large sigma), p lives in a small region around u = 0: its width in
    # u is sqrt(v_data / v) along the line and sqrt(v_data) / sigma across it.
    u1, w1 = _legendre_panels(10.0, 8, nodes, finest=0.25 * math.sqrt(v_data / v))
    u2, w2 = _legendre_panels(crossing + 10.0, 12, nodes,
                              finest=0.25 * min(1.0, math.sqrt(v_data) / sigma))
    u1, u2 = u1[:, None], u2[None, :]
    weight = (w1[:, None] * w2[None, :]) * np.exp(-0.5 * (u1**2 + u2**2)) / (2.0 * math.pi)

    # log R = log p - log q, written in u so that no density is ever formed.
    log_q = -0.5 * (u1**2 + u2**2) - math.log(2.0 * math.pi) - 0.5 * math.log(v) - math.log(sigma)
    log_p = -(v * u1**2 + sigma**2 * u2**2) / (2.0 * v_data) - math.log(2.0 * math.pi * v_data)
    log_ratio = log_p - log_q
    # psi(R) = (1 + R) log(1 + R) - R log R = softplus(s) + e^s softplus(-s) with s = log R;
    # for s > 30 the second term is 1 to within e^-30, and e^s would overflow later.
    capped = np.minimum(log_ratio, 30.0)
    psi = np.where(log_ratio > 30.0, log_ratio + 1.0,
                   np.logaddexp(0.0, capped) + np.exp(capped) * np.logaddexp(0.0, -capped))
    log_one_plus_ratio = np.logaddexp(0.0, log_ratio)

    # d log q / dtheta at a fixed point x has two parts. The variance v along the line
    # changes (d log q / dv = (u_1^2 - 1)/(2v), dv/dtheta = 2 theta), and the line turns
    # by d phi/dtheta = 1/(1 + theta^2), which contributes u_1 u_2 (sqrt(v)/sigma -
    # sigma/sqrt(v)) per radian. The turning part is odd in u_2 while log(1 + R) is even,
    # so it adds nothing to the mean but dominates the variance for small sigma.
    stretch = 2.0 * theta * (u1**2 - 1.0) / (2.0 * v)
    turn = u1 * u2 * (math.sqrt(v) / sigma - sigma / math.sqrt(v)) / (1.0 + theta * theta)
    js = LOG_2 - 0.5 * np.sum(weight * psi)
    # The mean uses the stretching part alone, so it is exactly 0 at theta = 0 instead
    # of a rounding residue of the cancelling turning part.
    derivative = np.sum(weight * (-0.5 * stretch * log_one_plus_ratio))
    second_moment = np.sum(weight * (0.5 * (stretch + turn) * log_one_plus_ratio) ** 2)
    stretch_moment = np.sum(weight * (0.5 * stretch * log_one_plus_ratio) ** 2)
    return float(js), float(derivative), float(second_moment), float(stretch_moment)


def noisy_divergence(theta: float, sigma: float, *, noise_on_data: bool = True,
                     nodes: int = 24) -> NoisyDivergence:
    r"""Compute $\mathrm{JS}(P_\sigma \| Q_{\theta,\sigma})$ and $\partial_\theta\mathrm{JS}$ by quadrature.

    The arguments `theta`, `sigma` are $\theta$ and $\sigma > 0$; `noise_on_data` as in
    `noisy_covariances`; `nodes` is the Gauss-Legendre order per panel (the error
    estimate reruns with twice as many).
    """
    theta = _finite("theta", theta)
    sigma = _positive("sigma", sigma)
    nodes = _count("nodes", nodes, 4, "the quadrature needs a few nodes per panel")
    js, derivative, _, _ = _noisy_quadrature(theta, sigma, noise_on_data, nodes)
    js_fine, derivative_fine, second_moment, stretch_moment = _noisy_quadrature(
        theta, sigma, noise_on_data, 2 * nodes)
    return NoisyDivergence(
        theta=theta, sigma=sigma, noise_on_data=noise_on_data,
        jensen_shannon=js_fine, jensen_shannon_error=abs(js_fine - js),
        derivative=derivative_fine, derivative_error=abs(derivative_fine - derivative),
        score_term_std=math.sqrt(max(second_moment - derivative_fine**2, 0.0)),
        stretch_term_std=math.sqrt(max(stretch_moment - derivative_fine**2, 0.0)),
    )


def sigma_sweep(theta: float, sigmas: tuple, *, noise_on_data: bool = True) -> list:
    r"""Return `noisy_divergence(theta, sigma)` for each $\sigma$ in `sigmas`."""
    return [noisy_divergence(theta, sigma, noise_on_data=noise_on_data) for sigma in sigmas]


def theta_sweep(thetas: tuple, sigma: float, *, noise_on_data: bool = True) -> list:
    r"""Return `noisy_divergence(theta, sigma)` for each $\theta$ in `thetas`."""
    return [noisy_divergence(theta, sigma, noise_on_data=noise_on_data) for theta in thetas]


def samples_for_relative_error(divergence: NoisyDivergence, relative_error: float,
                               confidence: float = 0.95, *,
                               stretch_only: bool = False) -> int:
    r"""Return how many samples the score-function derivative estimate needs.

    The sample mean is within `relative_error` times $|\partial_\theta\mathrm{JS}|$ of
    the truth with probability `confidence` under the normal approximation:
    $n = (z_{(1+c)/2}\, \mathrm{sd} / (\rho\, |\partial_\theta \mathrm{JS}|))^2$. The
    standard deviation is `score_term_std`, or `stretch_term_std` with `stretch_only`.
    """
    relative_error = _positive("relative_error", relative_error)
    confidence = _confidence(confidence)
    if divergence.derivative == 0.0:
        raise ValueError(
            f"the derivative is 0 at theta={divergence.theta!r}, so no sample size gives a "
            "relative error; pick a theta away from 0."
        )
    quantile = stats.norm.ppf(0.5 + confidence / 2.0)
    std = divergence.stretch_term_std if stretch_only else divergence.score_term_std
    ratio = quantile * std / (relative_error * abs(divergence.derivative))
    return int(math.ceil(ratio * ratio))


@dataclass(frozen=True)
class MonteCarloEstimate:
    """A Monte Carlo estimate, the half-width of its interval and how it was made."""

    estimate: float
    half_width: float
    confidence: float
    n_samples: int
    method: str


def hoeffding_samples(tolerance: float, confidence: float = 0.95) -> int:
    r"""Return the number of $[0, \log 2]$-bounded terms whose mean is within `tolerance`.

    Hoeffding's inequality: $n \ge (\log 2)^2 \log(2/\alpha) / (2 t^2)$ with
    $\alpha = 1 - $ `confidence` and $t$ = `tolerance`, rounded up to an even number so
    that the samples split evenly between the two laws.
    """
    tolerance = _positive("tolerance", tolerance)
    confidence = _confidence(confidence)
    bound = LOG_2**2 * math.log(2.0 / (1.0 - confidence)) / (2.0 * tolerance**2)
    return 2 * math.ceil(bound / 2.0)


def noisy_jensen_shannon_monte_carlo(theta: float, sigma: float, n_samples: int, *,
                                     tolerance: float, confidence: float = 0.95,
                                     seed: int = 0,
                                     noise_on_data: bool = True) -> MonteCarloEstimate:
    r"""Estimate $\mathrm{JS}$ of the noisy pair from samples, with a Hoeffding interval.

    Uses $\mathrm{JS} = \mathbb E_{x\sim M}[\log 2 - H(D^*_\sigma(x))]$ with
    $M = \tfrac12(P_\sigma + Q_{\theta,\sigma})$ and $H$ the binary entropy in nats, so
    every term lies in $[0, \log 2]$. Half of `n_samples` come from each law, so each
    term has weight $1/n$ in the mean. The interval covers the true value with
    probability at least `confidence` for any law, so `n_samples` must reach
    `hoeffding_samples(tolerance, confidence)`.
    """
    required = hoeffding_samples(tolerance, confidence)
    n_samples = _count("n_samples", n_samples, required,
                       f"Hoeffding's inequality needs {required} samples for a half-width of "
                       f"{tolerance} at confidence {confidence}")
    # Equal halves give every term the weight 1/n, which the bound below assumes, so an
    # odd count uses one sample fewer (required is even, so it is still enough).
    per_law = n_samples // 2
    x_data, x_generated = sample_counterexample(theta, per_law, seed, sigma,
                                                noise_on_data=noise_on_data)
    d = noisy_optimal_discriminator(np.concatenate([x_data, x_generated]), theta, sigma,
                                    noise_on_data=noise_on_data)
    terms = LOG_2 + special.xlogy(d, d) + special.xlogy(1.0 - d, 1.0 - d)
    used = 2 * per_law
    half_width = LOG_2 * math.sqrt(math.log(2.0 / (1.0 - confidence)) / (2.0 * used))
    return MonteCarloEstimate(float(np.mean(terms)), half_width, confidence, used,
                              "Hoeffding, half the samples from each law")


def noisy_derivative_monte_carlo(theta: float, sigma: float, n_samples: int, *,
                                 confidence: float = 0.95, seed: int = 0,
                                 noise_on_data: bool = True) -> MonteCarloEstimate:
    r"""Estimate $\partial_\theta \mathrm{JS}$ from generated samples with the score function.

    $\partial_\theta \mathrm{JS} = -\tfrac12 \mathbb E_{x \sim Q}[\partial_\theta \log q(x)
    \log(1 + p(x)/q(x))]$, in the original coordinates and with the matrix form of the
    Gaussian score, so it shares no algebra with `noisy_divergence`. The interval is the
    normal approximation at `confidence`, which needs at least
    `MIN_NORMAL_APPROXIMATION_SAMPLES` samples.
    """
    confidence = _confidence(confidence)
    n_samples = _count("n_samples", n_samples, MIN_NORMAL_APPROXIMATION_SAMPLES,
                       "a normal-approximation interval for a heavy-tailed score term "
                       "is not trustworthy with fewer samples")
    _, x = sample_counterexample(theta, n_samples, seed, sigma, noise_on_data=noise_on_data)
    data, generated = noisy_covariances(theta, sigma, noise_on_data=noise_on_data)
    precision = np.linalg.inv(generated)
    d_covariance = np.array([[0.0, 1.0], [1.0, 2.0 * theta]])
    # d/dtheta log N(x; 0, S) = (x' S^-1 dS S^-1 x - tr(S^-1 dS)) / 2
    y = x @ precision
    score = 0.5 * (np.einsum("ni,ij,nj->n", y, d_covariance, y)
                   - np.trace(precision @ d_covariance))
    log_p = stats.multivariate_normal(np.zeros(2), data).logpdf(x)
    log_q = stats.multivariate_normal(np.zeros(2), generated).logpdf(x)
    terms = -0.5 * score * np.logaddexp(0.0, log_p - log_q)
    quantile = stats.norm.ppf(0.5 + confidence / 2.0)
    half_width = quantile * np.std(terms, ddof=1) / math.sqrt(n_samples)
    return MonteCarloEstimate(float(np.mean(terms)), float(half_width), confidence,
                              n_samples, "score function, normal approximation")


# --------------------------------------------------------------------------------------
# Wasserstein distances


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Return the symmetric square root of a positive semi-definite matrix."""
    eigenvalues, eigenvectors = np.linalg.eigh(0.5 * (matrix + matrix.T))
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def gaussian_wasserstein2(mean_a, cov_a, mean_b, cov_b) -> float:
    r"""Return $W_2$ between two Gaussians, degenerate ones included.

    $W_2^2 = |m_a - m_b|^2 + \operatorname{tr} A + \operatorname{tr} B
    - 2\operatorname{tr}(A^{1/2} B A^{1/2})^{1/2}$ with means `mean_a`, `mean_b` and
    covariances `cov_a` $= A$, `cov_b` $= B$ (positive semi-definite).
    """
    mean_a, mean_b = np.atleast_1d(np.asarray(mean_a, float)), np.atleast_1d(np.asarray(mean_b, float))
    cov_a, cov_b = np.atleast_2d(np.asarray(cov_a, float)), np.atleast_2d(np.asarray(cov_b, float))
    dim = mean_a.shape[0]
    shapes = (mean_a.shape, mean_b.shape, cov_a.shape, cov_b.shape)
    if shapes != ((dim,), (dim,), (dim, dim), (dim, dim)):
        raise ValueError(
            "dimension mismatch: both means need shape (d,) and both covariances (d, d) "
            f"for one d, got shapes {shapes}."
        )
    for name, cov in (("cov_a", cov_a), ("cov_b", cov_b)):
        if np.linalg.eigvalsh(0.5 * (cov + cov.T)).min() < -1e-12 * max(1.0, np.abs(cov).max()):
            raise ValueError(f"{name} must be positive semi-definite, got {cov.tolist()}.")
    root_a = _psd_sqrt(cov_a)
    cross = np.trace(_psd_sqrt(root_a @ cov_b @ root_a))
    squared = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * cross
    return math.sqrt(max(float(squared), 0.0))


def line_wasserstein2(theta: float) -> float:
    r"""Return $W_2(\mathcal N(0, I_2), G_{\theta\#}\mathcal N(0,1)) = \sqrt{(r - 1)^2 + 1}$, $r = \sqrt{1+\theta^2}$.

    The argument `theta` is $\theta$. The optimal map sends $(a, b)$ in the line's frame
    to $(r a, 0)$: it stretches along the line and projects across it.
    """
    r = math.hypot(1.0, _finite("theta", theta))
    return math.sqrt((r - 1.0) ** 2 + 1.0)


def line_wasserstein1_bounds(theta: float) -> tuple[float, float]:
    r"""Return a lower and an upper bound on $W_1$ for the counterexample.

    The argument `theta` is $\theta$. Lower: the 1-Lipschitz test function
    $f(a, b) = w_1|b| - w_2|a|$ with the best unit $(w_1, w_2)$ gives
    $\sqrt{2/\pi}\, W_2$. Upper: the coupling $(a, b) \mapsto (r a, 0)$ costs
    $\mathbb E\|((r-1)a, b)\|$, computed by quadrature over the angle. Both equal
    $\sqrt{2/\pi}$ at $\theta = 0$.
    """
    r = math.hypot(1.0, _finite("theta", theta))
    lower = math.sqrt(2.0 / math.pi) * line_wasserstein2(theta)
    alpha = r - 1.0
    if alpha == 0.0:
        return lower, math.sqrt(2.0 / math.pi)
    # For (alpha a, b) with a, b standard normal, E|x| = sqrt(pi/2)/(2 pi alpha) times
    # the integral over the angle of (cos^2/alpha^2 + sin^2)^(-3/2).
    integral = integrate.quad(
        lambda angle: (math.cos(angle) ** 2 / alpha**2 + math.sin(angle) ** 2) ** -1.5,
        0.0, 2.0 * math.pi, points=[math.pi / 2, 3 * math.pi / 2], limit=200,
        epsabs=1e-13, epsrel=1e-12)[0]
    upper = math.sqrt(math.pi / 2.0) * integral / (2.0 * math.pi * alpha)
    return lower, upper


@dataclass(frozen=True)
class AssignmentEstimate:
    """The 1-Wasserstein distance between two samples, over repeated draws."""

    theta: float
    n_samples: int
    repeats: int
    mean: float
    standard_error: float
    values: tuple


def line_wasserstein1_assignment(theta: float, n_samples: int, repeats: int,
                                 seed: int = 0) -> AssignmentEstimate:
    r"""Estimate $W_1$ by an exact assignment between `n_samples` data and generated points.

    The argument `theta` is $\theta$. Each repeat draws fresh samples and solves the
    assignment problem with Euclidean costs exactly (`linear_sum_assignment`), which is
    $W_1$ between the two empirical laws. That value is a biased estimate of $W_1$
    between the laws themselves, and `standard_error` covers only the spread over
    repeats, not the bias.
    """
    theta = _finite("theta", theta)
    n_samples = _count("n_samples", n_samples, 10, "an assignment needs some points")
    repeats = _count("repeats", repeats, 2, "a standard error needs at least two repeats")
    values = []
    for repeat in range(repeats):
        x_data, x_generated = sample_counterexample(theta, n_samples, seed + repeat)
        cost = cdist(x_data, x_generated)
        rows, columns = linear_sum_assignment(cost)
        values.append(float(cost[rows, columns].mean()))
    values_array = np.array(values)
    return AssignmentEstimate(theta, n_samples, repeats, float(values_array.mean()),
                              float(values_array.std(ddof=1) / math.sqrt(repeats)),
                              tuple(values))


def wasserstein1_sweep(thetas: tuple, n_samples: int, repeats: int, seed: int = 0) -> list:
    r"""Return `line_wasserstein1_assignment` for each $\theta$ in `thetas`."""
    return [line_wasserstein1_assignment(theta, n_samples, repeats, seed) for theta in thetas]


# --------------------------------------------------------------------------------------
# Generators in practice: the rank of the Jacobian


def random_relu_jacobian_rank(latent_dim: int, data_dim: int, hidden_dim: int,
                              seed: int = 0) -> int:
    r"""Return the rank of the Jacobian of a random ReLU network $\mathbb R^k \to \mathbb R^n$.

    The arguments `latent_dim`, `data_dim`, `hidden_dim` are $k$, $n$ and the width of
    the one hidden layer. The Jacobian $W_2 \operatorname{diag}(\mathbf 1[W_1 z > 0])
    W_1$ is evaluated at one Gaussian latent point; its rank is at most $\min(k, n)$, so
    for $k < n$ the network's image is a union of pieces of $k$-dimensional planes.
    """
    latent_dim = _count("latent_dim", latent_dim, 1, "the latent space needs a dimension")
    data_dim = _count("data_dim", data_dim, 1, "the data space needs a dimension")
    hidden_dim = _count("hidden_dim", hidden_dim, 1, "the hidden layer needs a unit")
    rng = np.random.default_rng(seed)
    first = rng.standard_normal((hidden_dim, latent_dim)) / math.sqrt(latent_dim)
    second = rng.standard_normal((data_dim, hidden_dim)) / math.sqrt(hidden_dim)
    z = rng.standard_normal(latent_dim)
    active = (first @ z > 0).astype(float)
    jacobian = second @ (active[:, None] * first)  # (data_dim, latent_dim)
    # The rank of J equals that of the small Gram matrix J'J (latent_dim x latent_dim),
    # whose SVD is far cheaper than that of the tall J.
    return int(np.linalg.matrix_rank(jacobian.T @ jacobian, hermitian=True))


# --------------------------------------------------------------------------------------
# The contrast: dim z = dim x with the 1-D LS-GAN generator


def pushforward_density(x, g: float, h: float) -> np.ndarray:
    r"""Return $p_g(x) = p_Z(G^{-1}(x)) / |G'(G^{-1}(x))|$ for $G(z) = g z^2 + h$ on $z \ge 0$.

    The arguments `x`, `g`, `h` are the data point $x$, the scale $g > 0$ and the offset
    $h$. This is the change-of-variables formula applied to `latent_density`, with
    $G^{-1}(x) = \sqrt{(x - h)/g}$ and $G'(z) = 2 g z$. It is 0 below $x = h$, where $G$
    has no preimage. At $x = h$ both $p_Z$ and $G'$ vanish, and the value there is the
    limit $1/g$ from the right.
    """
    g = _positive("g", g)
    h = _finite("h", h)
    x = np.asarray(x, dtype=float)
    z = np.sqrt(np.maximum(x - h, 0.0) / g)
    with np.errstate(divide="ignore", invalid="ignore"):
        density = lsgan_model.latent_density(z) / (2.0 * g * z)
    return np.where(x > h, density, np.where(x == h, 1.0 / g, 0.0))


def lsgan_laws_optimal_discriminator(x, g: float, h: float, c: float) -> np.ndarray:
    r"""Return Proposition 1's $D^*(x) = p_X(x) / (p_X(x) + p_g(x))$ for the 1-D LS-GAN laws.

    The arguments `x`, `g`, `h`, `c` are $x$, the generator scale and offset and the
    data rate. Where both densities vanish (below $\min(0, h)$) the value is set to 1/2.
    Those points carry no mass under either law, so no expectation depends on it.
    """
    p = lsgan_model.data_density(x, c)
    q = lsgan_model.generator_density(x, g, h)
    total = p + q
    return np.where(total > 0, p / np.where(total > 0, total, 1.0), 0.5)


def pointwise_maximiser(p_data: float, p_generated: float) -> float:
    r"""Maximise $y \mapsto p \log y + q \log(1 - y)$ over $(0, 1)$ numerically.

    The arguments `p_data` and `p_generated` are the densities $p$ and $q$ at one point
    (non-negative, not both 0). Bounded Brent search, independent of the formula
    $p/(p+q)$ it checks.
    """
    p = _finite("p_data", p_data)
    q = _finite("p_generated", p_generated)
    if p < 0 or q < 0 or p + q == 0:
        raise ValueError(
            f"densities must be non-negative and not both 0, got p_data={p!r}, "
            f"p_generated={q!r}."
        )
    result = optimize.minimize_scalar(
        lambda y: -(special.xlogy(p, y) + special.xlogy(q, 1.0 - y)),
        bounds=(1e-15, 1.0 - 1e-15), method="bounded", options={"xatol": 1e-13})
    return float(result.x)


@dataclass(frozen=True)
class LogisticFit:
    r"""A discriminator $D(x) = 1/(1 + e^{-\ell(x)})$, $\ell(x) = \alpha + \beta x + \gamma x^2$, fitted by maximising $V$.

    `coefficients` is $(\alpha, \beta, \gamma)$, `value` the value $V$ it reaches, and
    `optimal_value` is $V(D^*)$ from `lsgan_laws_optimal_value`, the supremum.
    """

    coefficients: tuple
    value: float
    optimal_value: float


@functools.lru_cache(maxsize=None)
def _laguerre_rule(nodes: int):
    return laggauss(nodes)


def _laguerre_expectations(g: float, h: float, c: float, nodes: int = 80):
    """Return nodes and weights for E over p_X = Exp(c) and over p_g = h + Exp(1/g)."""
    t, w = _laguerre_rule(nodes)
    return t / c, w, h + g * t, w


def lsgan_laws_value(coefficients, g: float, h: float, c: float) -> float:
    r"""Return Goodfellow et al.'s value $V(D, G)$ for a logistic $D$ and the 1-D LS-GAN laws.

    The discriminator is $D = 1/(1 + e^{-\ell})$ with $\ell(x) = \alpha + \beta x + \gamma x^2$
    and `coefficients` $= (\alpha, \beta, \gamma)$. The laws are the data $p_X$ with
    rate `c` and the generated $p_g$ with scale `g` and offset `h`. This is the value of
    the original game, not the least-squares cost of the LS-GAN chapter:
    $V = -\mathbb E_{p_X}\operatorname{softplus}(-\ell) - \mathbb E_{p_g}\operatorname{softplus}(\ell)$,
    computed by 80-point Gauss-Laguerre quadrature (both laws are shifted exponentials).
    """
    x_data, w_data, x_generated, w_generated = _laguerre_expectations(g, h, c)
    alpha, beta, gamma = coefficients
    logit_data = alpha + beta * x_data + gamma * x_data**2
    logit_generated = alpha + beta * x_generated + gamma * x_generated**2
    return float(-np.sum(w_data * np.logaddexp(0.0, -logit_data))
                 - np.sum(w_generated * np.logaddexp(0.0, logit_generated)))


def lsgan_laws_optimal_value(g: float, h: float, c: float) -> float:
    r"""Return $V(D^*, G) = \mathbb E_{p_X}\log D^* + \mathbb E_{p_g}\log(1 - D^*)$ by adaptive quadrature.

    The arguments `g`, `h`, `c` are the generator scale and offset and the data rate.
    $D^*$ is the pointwise formula; by Theorem 1 the value is $-\log 4 + 2\,\mathrm{JS}$.
    """
    g, h, c = _positive("g", g), _finite("h", h), _positive("c", c)

    def integrand(x: float) -> float:
        p = float(lsgan_model.data_density(x, c))
        q = float(lsgan_model.generator_density(x, g, h))
        if p + q == 0:
            return 0.0
        return float(special.xlogy(p, p / (p + q)) + special.xlogy(q, q / (p + q)))

    start = min(0.0, h)
    end = max(0.0, h) + 60.0 * max(g, 1.0 / c)
    breaks = sorted({0.0, h})
    return float(integrate.quad(integrand, start, end, points=breaks, limit=400,
                                epsabs=1e-13, epsrel=1e-12)[0])


def fit_logistic_discriminator(g: float, h: float, c: float) -> LogisticFit:
    r"""Maximise $V$ over discriminators with a quadratic logit, for the 1-D LS-GAN laws.

    The arguments `g`, `h`, `c` are the generator scale and offset and the data rate.
    For $h = 0$ the pointwise $D^*$ has the linear logit
    $\log(c g) + (1/g - c) x$, so the fit should find it and reach
    `lsgan_laws_optimal_value`. BFGS from the constant discriminator $D = 1/2$.
    """
    g, h, c = _positive("g", g), _finite("h", h), _positive("c", c)
    result = optimize.minimize(lambda w: -lsgan_laws_value(tuple(w), g, h, c),
                               np.zeros(3), method="BFGS", options={"gtol": 1e-11})
    return LogisticFit(tuple(float(w) for w in result.x), -float(result.fun),
                       lsgan_laws_optimal_value(g, h, c))
