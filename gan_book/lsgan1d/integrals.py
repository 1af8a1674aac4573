r"""Exact expected cost of the 1-D LS-GAN through bivariate normal tails.

Backs the chapter "An exactly solvable 1-D LS-GAN" (docs/chapters/lsgan1d.md). The model
and the error-function form of its cost are from Pulford and Kondrashov, IEEE Access,
2021; the bivariate normal CDF through Owen's T function is from D. B. Owen, "Tables
for computing bivariate normal probabilities", Ann. Math. Statist. 27 (1956).

Both cost terms are expectations of a squared normal CDF over an exponential variable.
With $\Phi$ the standard normal CDF, $\varphi$ its density, $Q = 1 - \Phi$ and
$s \sim \mathrm{Exp}(\kappa)$,

$$F(\beta, \kappa) = \mathbb E\,\Phi(\beta + s)^2 = \Phi(\beta)^2 + 2 K_\Phi(\beta, \kappa),
\qquad
\bar F(\gamma, \kappa) = \mathbb E\,Q(\gamma + s)^2 = Q(\gamma)^2 - 2 K_Q(\gamma, \kappa),$$

by parts, with the key integrals
$K_\Phi(\beta,\kappa) = \int_0^\infty e^{-\kappa s}\varphi(\beta+s)\Phi(\beta+s)\,ds$ and
$K_Q(\gamma,\kappa) = \int_0^\infty e^{-\kappa s}\varphi(\gamma+s)Q(\gamma+s)\,ds$.
Completing the square turns each into a bivariate normal tail with correlation
$\pm 1/\sqrt2$ at the corner $(h, x_0)$, $h = x_0 + \kappa$:

$$K_\Phi = \frac{\varphi(\beta)}{\varphi(h)}\,P(W > h,\ V < W - \kappa),\qquad
K_Q = \frac{\varphi(\gamma)}{\varphi(h)}\,P(W > h,\ V > W - \kappa),$$

for independent standard normal $W, V$. The tail is evaluated with Owen's T; the
prefactor and the tail are multiplied in log space. These are the paper's
$\tilde I_8$ in other coordinates: `key_integral` evaluates $\tilde I_8$ itself.

Each rearrangement has its own rounding error, so every point is evaluated three ways
and the one with the smallest rounding bound is kept: the tail formula, its complement
($K_\Phi + K_Q = \varphi(x_0) Q(h)/\varphi(h)$), and, for large $\kappa$, the
convergent-in-practice expansion $K = \sum_n f^{(n)}(x_0)/\kappa^{n+1}$ with
$f = \varphi\Phi$ or $\varphi Q$. No numerical quadrature is used.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf, erfcx, log_ndtr, ndtr, owens_t

__all__ = [
    "key_integral",
    "key_integral_monte_carlo",
    "squared_cdf_expectation",
    "squared_cdf_expectation_from_key",
]

EPS = np.finfo(float).eps
LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
SQRT2 = np.sqrt(2.0)
RHO = 1.0 / SQRT2  # correlation of W and (W - V)/sqrt(2)

# Terms of the large-kappa expansion. The ratio of successive terms is about
# (2|x0| + sqrt(n)) / kappa, so 80 terms reach double precision once kappa exceeds
# about twice 2|x0| + 9; elsewhere its error bound loses to the tail formulas.
SERIES_TERMS = 80


def _on_subset(mask, function, arrays, fills):
    """Evaluate `function` only where `mask` is true, and return `fills` elsewhere.

    The expansions below cost tens of array passes and help only in part of the
    domain, so they run on the compressed subset of points where they can converge.
    """
    outputs = [np.full(mask.shape, fill) for fill in fills]
    if np.any(mask):
        results = function(*(np.asarray(array)[mask] for array in arrays))
        for output, result in zip(outputs, results):
            output[mask] = result
    return outputs


def _log_phi(x):
    return -0.5 * np.square(x) - LOG_SQRT_2PI


WATSON_TERMS = 30
# Truncation errors of the expansions below are estimated from their last terms.
TAIL_TERMS = 8
MILLER_EXTRA = 25
# Largest argument for which the unscaled backward recursion below stays finite.
MILLER_MAX_X = 1e4


def _gaussian_laplace_moments(x, count):
    r"""Return $\mu_n(x) = \int_0^\infty t^n e^{-x t - t^2/2}\,dt$ for n < count, x > 0,
    as unnormalised values and the factor that normalises them.

    By parts, $\mu_{n+1} = n\mu_{n-1} - x\mu_n$, which cancels when run forward, so
    Miller's algorithm runs it backward from `count + MILLER_EXTRA`; the factor makes
    $\mu_0 = Q(x)/\varphi(x) = \sqrt{\pi/2}\operatorname{erfcx}(x/\sqrt2)$. Callers
    apply it once to their sums rather than to every moment.
    """
    moments = [None] * count
    mu_next = np.zeros_like(x)
    mu = np.full_like(x, 1e-200)
    with np.errstate(all="ignore"):
        # Starting at 1e-200, the values grow by at most x^n / n! over the recursion,
        # which stays below 1e150 for x <= MILLER_MAX_X and the counts used here.
        for n in range(count + MILLER_EXTRA, 0, -1):
            mu_next, mu = mu, (x * mu + mu_next) / n
            if n - 1 < count:
                moments[n - 1] = mu
        norm = np.sqrt(np.pi / 2.0) * erfcx(x / SQRT2) / moments[0]
    return moments, norm


def _normalised_moments(x, count):
    """Return the moments of `_gaussian_laplace_moments`, each normalised."""
    moments, norm = _gaussian_laplace_moments(x, count)
    with np.errstate(all="ignore"):
        return [moment * norm for moment in moments]


def _log_upper_owen_watson(x, a):
    r"""Return log U(x, a) and the log of its error bound by Watson's lemma, for a > 0.

    With $t = a + u$, $U = \frac{e^{-x^2(1+a^2)/2}}{2\pi}\int_0^\infty
    e^{-x^2 a u - x^2u^2/2}\,\frac{du}{1 + (a+u)^2}$. The rational factor is
    $\operatorname{Im} 1/(a - i + u)$, expanded in powers of $u$; the Gaussian factor is
    kept whole, so each term is a moment $x^{-n-1}\mu_n(x a)$. Successive terms shrink
    by about $n/(x^2 a\sqrt{1+a^2})$, so the expansion pays off once $x a$ exceeds
    about 5.
    """
    with np.errstate(all="ignore"):
        moments, norm = _gaussian_laplace_moments(x * a, WATSON_TERMS + 1)
        # (-1)^n Im (a - i)^{-n-1} is the coefficient of u^n in 1/(1 + (a+u)^2). With
        # 1/(a - i) = rho e^{i theta} it is (-1)^n rho^{n+1} sin((n+1) theta), and the
        # sines follow sin((n+2)t) = 2 cos(t) sin((n+1)t) - sin(n t).
        rho = 1.0 / np.sqrt(1.0 + np.square(a))
        twice_cos = 2.0 * a * rho
        sine_previous, sine = np.zeros_like(x), rho
        scale = rho / x  # rho^{n+1} / x^{n+1}, with the sign (-1)^n folded in below
        total = np.zeros_like(x)
        tail_max = np.zeros_like(x)
        for n in range(WATSON_TERMS + 1):
            term = scale * sine * moments[n]
            total = total + term
            if n > WATSON_TERMS - TAIL_TERMS:
                tail_max = np.maximum(tail_max, np.abs(term))
            scale = -scale * rho / x
            sine_previous, sine = sine, twice_cos * sine - sine_previous
        total = total * norm
        tail_max = tail_max * np.abs(norm)
        log_prefix = -0.5 * np.square(x) * (1.0 + np.square(a)) - np.log(2.0 * np.pi)
        log_value = log_prefix + np.log(np.maximum(total, 0.0))
        error = WATSON_TERMS * tail_max + 8 * EPS * np.abs(total)
        log_bound = log_prefix + np.log(error)
    usable = np.isfinite(log_value) & ~np.isnan(log_bound)
    return np.where(usable, log_value, -np.inf), np.where(usable, log_bound, np.inf)


def _log_upper_owen(x, a):
    r"""Return log U(x, a), with $U(x, a) = P(X > x, Y > a X)$ for $x \ge 0$, and the
    log of its absolute rounding bound.

    For $a < 0$, $U(x, a) = Q(x) - U(x, |a|)$, where the subtracted part is at most
    half, so no digits are lost.
    """
    x, a = np.broadcast_arrays(np.asarray(x, float), np.asarray(a, float))
    log_u, log_bound = _log_upper_owen_nonnegative(x, np.abs(a))
    log_q = log_ndtr(-x)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        complement = log_q + np.log1p(-np.minimum(np.exp(log_u - log_q), 0.5))
    complement_bound = np.logaddexp(log_bound, np.log(4.0 * EPS) + log_q)
    negative = a < 0
    return (
        np.where(negative, complement, log_u),
        np.where(negative, complement_bound, log_bound),
    )


# Below this size a linear-scale Owen's T form is taken to have underflowed.
LINEAR_FLOOR = 1e-290
# Slower expansions are evaluated only where the faster forms' rounding bound,
# relative to the value, exceeds this.
TARGET_RELATIVE_ERROR = 1e-11


def _log_upper_tail(x, q):
    """Return log Q(x) given q = Q(x), through log_ndtr only where q underflows."""
    small = q < 1e-300
    with np.errstate(divide="ignore"):
        log_q = np.log(q)
    if np.any(small):
        log_q = np.where(small, log_ndtr(-x), log_q)
    return log_q


def _log_upper_owen_nonnegative(x, a):
    r"""Return log U(x, a) and the log of its rounding bound for $x \ge 0$, $a \ge 0$.

    The direct form $Q(x)/2 - T(x, a)$ and the swapped form
    $Q(x) Q(a x) - Q(a x)/2 + T(a x, 1/a)$ (Owen's identity
    $T(x, a) + T(a x, 1/a) = \tfrac12\Phi(x) + \tfrac12\Phi(ax) - \Phi(x)\Phi(ax)$)
    cancel at the scales $Q(x)$ and $Q(a x)$. Where both scales are far above $U$
    (both $x$ and $a x$ large) Watson's expansion is used, on its own or for the
    inner term of the swap. Each point keeps the candidate with the smallest bound.
    """
    q = ndtr(-x)
    ax = np.minimum(a * x, 1e300)
    q_ax = ndtr(-ax)
    positive = a > 0
    inv = np.minimum(1.0 / np.where(positive, a, 1.0), 1e300)
    log_eps = np.log(4.0 * EPS)
    log_q = _log_upper_tail(x, q)
    log_q_ax = _log_upper_tail(ax, q_ax)
    candidates = []
    with np.errstate(divide="ignore"):
        direct = 0.5 * q - owens_t(x, a)
        candidates.append(
            (
                np.log(np.maximum(direct, 0.0)),
                np.where(q > LINEAR_FLOOR, log_eps + log_q, np.inf),
            )
        )

    def swap(q, q_ax, ax, inv, log_q_ax):
        with np.errstate(divide="ignore"):
            swapped = q * q_ax - 0.5 * q_ax + owens_t(ax, inv)
            bound = np.where(q_ax > LINEAR_FLOOR, log_eps + log_q_ax, np.inf)
            return np.log(np.maximum(swapped, 0.0)), bound

    # For a <= 1 the swap cancels at Q(a x) >= Q(x), never better than the direct form.
    candidates.append(
        _on_subset(a > 1.0, swap, (q, q_ax, ax, inv, log_q_ax), (-np.inf, np.inf))
    )
    # At a = 0 the wedge is half of the upper tail, exactly.
    candidates.append((log_q - np.log(2.0), np.where(positive, np.inf, log_eps + log_q)))
    log_value, log_bound = _best(candidates)

    # Watson's expansion shrinks its terms by about n / (x^2 a), so it is tried only
    # where the Owen's T forms lose digits and x^2 a is large enough to get anywhere.
    needs_more = positive & (log_bound - log_value > np.log(TARGET_RELATIVE_ERROR))
    watson = _on_subset(
        needs_more & (np.square(x) * a > 4.0) & (x * a <= MILLER_MAX_X),
        _log_upper_owen_watson,
        (x, a),
        (-np.inf, np.inf),
    )
    # Swap with the inner U(a x, 1/a) from Watson's expansion: U = Q(x)Q(ax) - inner.
    inner_value, inner_bound = _on_subset(
        needs_more & (np.square(ax) * inv > 4.0) & (x <= MILLER_MAX_X),
        _log_upper_owen_watson,
        (ax, inv),
        (-np.inf, np.inf),
    )
    log_product = log_q + log_q_ax
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.minimum(np.exp(inner_value - log_product), 1.0)
        difference = log_product + np.log1p(-ratio)
    swapped_watson = (difference, np.logaddexp(inner_bound, log_eps + log_product))
    return _best([(log_value, log_bound), watson, swapped_watson])


def _best(candidates):
    """Keep, point by point, the (value, bound) pair with the smallest bound."""
    value, bound = candidates[0]
    for other_value, other_bound in candidates[1:]:
        better = other_bound < bound
        value = np.where(better, other_value, value)
        bound = np.where(better, other_bound, bound)
    return value, bound


def _log_orthant(h, k, rho):
    r"""Return log P(X > h, Y > k) for a standard normal pair with correlation `rho`,
    and the log of its absolute rounding bound.

    Owen's formula splits the orthant at the origin into two $U$ terms, added when both
    thresholds are positive and subtracted (with the half-plane correction) otherwise.
    """
    h, k, rho = np.broadcast_arrays(
        np.asarray(h, float), np.asarray(k, float), np.asarray(rho, float)
    )
    sigma = np.sqrt(1.0 - rho * rho)
    # The ratios k/h and h/k are replaced by huge numbers at a zero threshold, where
    # Owen's T takes its limit value.
    safe_h = np.where(h == 0, 1.0, h)
    safe_k = np.where(k == 0, 1.0, k)
    with np.errstate(over="ignore"):
        a_h = np.where(h == 0, np.copysign(1e300, k), (k / safe_h - rho) / sigma)
        a_k = np.where(k == 0, np.copysign(1e300, h), (h / safe_k - rho) / sigma)
    a_h, a_k = np.clip(a_h, -1e300, 1e300), np.clip(a_k, -1e300, 1e300)
    u_h = _log_upper_owen(np.abs(h), np.where(h >= 0, a_h, -a_h))
    u_k = _log_upper_owen(np.abs(k), np.where(k >= 0, a_k, -a_k))
    log_value, log_bound = _combine_orthant(h >= 0, k >= 0, u_h, u_k)
    # Owen's split is degenerate at the origin, where the orthant is
    # 1/4 + arcsin(rho)/(2 pi) (Sheppard's formula).
    origin = (h == 0) & (k == 0)
    log_value = np.where(origin, np.log(0.25 + np.arcsin(rho) / (2 * np.pi)), log_value)
    return log_value, np.where(origin, np.log(4 * EPS), log_bound)


def _combine_orthant(h_upper, k_upper, u_h, u_k):
    """Combine the two log U terms of Owen's formula by the signs of the thresholds."""
    (log_u_h, log_bound_h), (log_u_k, log_bound_k) = u_h, u_k
    with np.errstate(all="ignore"):
        added = np.logaddexp(log_u_h, log_u_k)
        lower = np.log1p(-np.minimum(np.exp(added), 1.0))
        h_minus_k = log_u_h + np.log1p(-np.minimum(np.exp(log_u_k - log_u_h), 1.0))
        k_minus_h = log_u_k + np.log1p(-np.minimum(np.exp(log_u_h - log_u_k), 1.0))
    log_value = np.where(
        h_upper & k_upper,
        added,
        np.where(~h_upper & ~k_upper, lower, np.where(h_upper, h_minus_k, k_minus_h)),
    )
    log_bound = np.logaddexp(log_bound_h, log_bound_k)
    log_bound = np.where(
        ~h_upper & ~k_upper, np.logaddexp(log_bound, np.log(2 * EPS)), log_bound
    )
    return np.where(np.isnan(log_value), -np.inf, log_value), log_bound


def _signed_upper_owen(x, a, u_abs):
    """Turn log U(x, |a|) into log U(x, a) with U(x, -|a|) = Q(x) - U(x, |a|)."""
    log_u, log_bound = u_abs
    log_q = log_ndtr(-x)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        complement = log_q + np.log1p(-np.minimum(np.exp(log_u - log_q), 0.5))
    complement_bound = np.logaddexp(log_bound, np.log(4.0 * EPS) + log_q)
    negative = a < 0
    return (
        np.where(negative, complement, log_u),
        np.where(negative, complement_bound, log_bound),
    )


def _log_tails(x0, kappa):
    r"""Return log tails and bounds for $P(W > h, V < W - \kappa)$ (the $\Phi$ case)
    and $P(W > h, V > W - \kappa)$ (the $Q$ case), $h = x_0 + \kappa$.

    In the coordinates $(W, (W - V)/\sqrt2)$ they are orthants at $(h, \pm\kappa/\sqrt2)$
    with correlation $\pm 1/\sqrt2$, and Owen's slopes differ only in sign between the
    two, so the two $U$ evaluations are shared.
    """
    h = x0 + kappa
    k = kappa / SQRT2
    safe_h = np.where(h == 0, 1.0, h)
    # Owen's slopes for the Phi case; the Q case has the same slopes negated.
    a_h = np.where(h == 0, 1e300, kappa / safe_h - 1.0)
    a_k = 2.0 * h / kappa - 1.0
    abs_h = np.abs(h)
    u_h_abs = _log_upper_owen_nonnegative(abs_h, np.abs(a_h))
    u_k_abs = _log_upper_owen_nonnegative(k, np.abs(a_k))
    h_upper = h >= 0
    # Signs follow _log_orthant: the slope of the h term flips with the sign of h.
    u_h_plus = _signed_upper_owen(abs_h, np.where(h_upper, a_h, -a_h), u_h_abs)
    u_h_minus = _signed_upper_owen(abs_h, np.where(h_upper, -a_h, a_h), u_h_abs)
    u_k_plus = _signed_upper_owen(k, a_k, u_k_abs)
    u_k_minus = _signed_upper_owen(k, a_k, u_k_abs)  # threshold -k: slope -(-a_k)
    true = np.ones_like(h_upper)
    phi_case = _combine_orthant(h_upper, true, u_h_plus, u_k_plus)
    q_case = _combine_orthant(h_upper, ~true, u_h_minus, u_k_minus)
    return phi_case, q_case


def _key_by_tail(x0, kappa, log_tail, log_tail_bound):
    """K from a bivariate tail times the log-space prefactor, and its bound."""
    log_prefactor = 0.5 * kappa * (2.0 * x0 + kappa)
    with np.errstate(over="ignore", invalid="ignore"):
        value = np.exp(log_prefactor + log_tail)
        # Adding two large logarithms loses about (their size) x eps, relative.
        exponent_error = 4 * EPS * (np.abs(log_prefactor) + np.abs(log_tail))
        bound = np.exp(log_prefactor + log_tail_bound) + value * exponent_error
    bound = np.where(np.isnan(bound), np.inf, bound)
    return value, bound


def _log_scaled_tail(x0, kappa):
    """Return log(phi(x0) Q(h) / phi(h)), the sum K_Phi + K_Q, through erfcx."""
    h = x0 + kappa
    # Q(h)/phi(h) = sqrt(pi/2) erfcx(h/sqrt2), finite for every h in double range
    # below h = -26, where Q(h) is 1 and the log form is used instead.
    log_mills = np.where(
        h > -26.0,
        np.log(np.sqrt(np.pi / 2.0) * erfcx(np.maximum(h, -26.0) / SQRT2)),
        log_ndtr(-h) - _log_phi(h),
    )
    return _log_phi(x0) + log_mills


def _key_by_series(x0, kappa, upper):
    r"""K and dK/dkappa from $K = \sum_n f^{(n)}(x_0) / \kappa^{n+1}$, with bounds.

    The derivatives follow from $f' = -x f \pm \varphi^2$ (plus sign for
    $f = \varphi\Phi$), and $(\varphi^2)^{(n)}$ from Hermite polynomials at
    $\sqrt2 x_0$. Everything is scaled by $\varphi(x_0)$ and by $\kappa^{-n}$ as it is
    computed, so no term overflows.
    """
    sign = -1.0 if upper else 1.0
    phi0 = np.exp(_log_phi(x0))
    cdf0 = ndtr(-x0) if upper else ndtr(x0)
    y = SQRT2 * x0
    # g_n = f^(n)(x0) / (phi(x0) kappa^n); d_n = (phi^2)^(n)(x0) / (phi(x0) kappa^n).
    g_prev = np.zeros_like(x0)
    g = cdf0.copy()
    d_prev = np.zeros_like(x0)
    d = phi0.copy()
    total = g.copy()
    derivative = -g
    magnitude = np.abs(g)
    tail_max = np.zeros_like(x0)
    # Where kappa is small the terms grow without bound; such points get an
    # infinite error bound and another rearrangement is used.
    with np.errstate(over="ignore", invalid="ignore"):
        for n in range(SERIES_TERMS):
            g_next = (-x0 * g - n * g_prev / kappa + sign * d) / kappa
            d_next = (-SQRT2 * y * d - 2.0 * n * d_prev / kappa) / kappa
            g_prev, g = g, g_next
            d_prev, d = d, d_next
            total = total + g
            derivative = derivative - (n + 2) * g
            magnitude = magnitude + np.abs(g)
            if n >= SERIES_TERMS - TAIL_TERMS:
                tail_max = np.maximum(tail_max, np.abs(g))
        value = phi0 * total / kappa
        d_value = phi0 * derivative / np.square(kappa)
        truncation = SERIES_TERMS * tail_max
        bound = phi0 * (truncation + 8 * EPS * magnitude) / kappa
    # Below this rate the terms cannot shrink at all (their ratio is near 2|x0|/kappa),
    # whatever the last terms happen to show.
    usable = np.isfinite(bound) & np.isfinite(value) & np.isfinite(d_value)
    usable &= kappa >= 2.0 * np.abs(x0) + 4.0
    bound = np.where(usable, bound, np.inf)
    return value, d_value, bound


GAUSSIAN_SERIES_TERMS = 50
GAUSSIAN_SERIES_MIN_X0 = 2.0


def _key_q_by_gaussian_series(x0, kappa):
    r"""$K_Q$ and its kappa-derivative for large $x_0$, where the Gaussian decays fastest.

    With the Mills ratio $m = Q/\varphi$,
    $K_Q = \varphi(x_0)^2 \int_0^\infty e^{-\lambda s - s^2} m(x_0 + s)\,ds$ for
    $\lambda = 2x_0 + \kappa$. The Taylor coefficients of $m$ at $x_0$ are
    $(-1)^n\mu_n(x_0)/n!$ and $\int_0^\infty s^n e^{-\lambda s - s^2} ds =
    2^{-(n+1)/2}\mu_n(\lambda/\sqrt2)$, so the sum has terms shrinking by about
    $n/(x_0\lambda)$ (Watson's lemma with the Gaussian kept whole); it is tried only
    for $x_0 \ge 2$.
    """
    terms = GAUSSIAN_SERIES_TERMS
    rate = 2.0 * x0 + kappa
    taylor_moments = _normalised_moments(x0, terms + 1)
    weight_moments = _normalised_moments(rate / SQRT2, terms + 2)
    total = np.zeros_like(x0)
    derivative = np.zeros_like(x0)
    tail_max = np.zeros_like(x0)
    factorial = 1.0
    with np.errstate(all="ignore"):
        for n in range(terms + 1):
            if n > 0:
                factorial *= n
            coefficient = (-1) ** n * taylor_moments[n] / factorial
            term = coefficient * 2.0 ** (-(n + 1) / 2) * weight_moments[n]
            total = total + term
            derivative = derivative - coefficient * 2.0 ** (-(n + 2) / 2) * weight_moments[n + 1]
            if n > terms - TAIL_TERMS:
                tail_max = np.maximum(tail_max, np.abs(term))
        phi_squared = np.exp(2.0 * _log_phi(x0))
        bound = phi_squared * (terms * tail_max + 8 * EPS * np.abs(total))
    bound = np.where(np.isfinite(bound) & np.isfinite(total), bound, np.inf)
    return phi_squared * total, phi_squared * derivative, bound


def _upper_expectation_by_gaussian_series(x0, kappa):
    r"""$\bar F = \mathbb E\,Q(x_0 + s)^2$ and $\partial\bar F/\partial\kappa$ as a sum
    of positive-weight terms, for $x_0 \ge 2$.

    $\bar F = \kappa\varphi(x_0)^2\int_0^\infty e^{-\lambda s - s^2} m(x_0+s)^2 ds$
    with $\lambda = 2x_0 + \kappa$; the Taylor coefficients of $m^2$ are the Cauchy
    square of those of $m$, and the moments are as in `_key_q_by_gaussian_series`.
    """
    terms = GAUSSIAN_SERIES_TERMS
    rate = 2.0 * x0 + kappa
    taylor_moments = _normalised_moments(x0, terms + 1)
    weight_moments = _normalised_moments(rate / SQRT2, terms + 2)
    with np.errstate(all="ignore"):
        taylor = []
        factorial = 1.0
        for n in range(terms + 1):
            if n > 0:
                factorial *= n
            taylor.append((-1) ** n * taylor_moments[n] / factorial)
        total = np.zeros_like(x0)
        slope = np.zeros_like(x0)
        tail_max = np.zeros_like(x0)
        for n in range(terms + 1):
            square = sum(taylor[j] * taylor[n - j] for j in range(n + 1))
            term = square * 2.0 ** (-(n + 1) / 2) * weight_moments[n]
            total = total + term
            slope = slope - square * 2.0 ** (-(n + 2) / 2) * weight_moments[n + 1]
            if n > terms - TAIL_TERMS:
                tail_max = np.maximum(tail_max, np.abs(term))
        phi_squared = np.exp(2.0 * _log_phi(x0))
        value = kappa * phi_squared * total
        d_kappa = phi_squared * (total + kappa * slope)
        bound = kappa * phi_squared * (terms * tail_max + 8 * EPS * np.abs(total))
    usable = np.isfinite(bound) & np.isfinite(value) & np.isfinite(d_kappa)
    return value, d_kappa, np.where(usable, bound, np.inf)


def _key(x0, kappa, upper):
    """Return K_Q (upper) or K_Phi and dK/dkappa, choosing the best rearrangement."""
    phi_case, q_case = _log_tails(x0, kappa)
    direct, direct_bound = _key_by_tail(x0, kappa, *(q_case if upper else phi_case))
    other, other_bound = _key_by_tail(x0, kappa, *(phi_case if upper else q_case))
    total = np.exp(_log_scaled_tail(x0, kappa))
    complement = total - other
    complement_bound = other_bound + 2 * EPS * total
    value, bound = _best([(direct, direct_bound), (complement, complement_bound)])
    d_value, d_scale = _key_kappa_derivative(x0, kappa, value, upper, with_scale=True)

    # The expansions are tried where the tail forms leave K, the expectation built from
    # it (which subtracts 2K when `upper`) or dK/dkappa (which subtracts terms of size
    # d_scale) short of the target.
    base = np.exp(2.0 * log_ndtr(-x0 if upper else x0))
    expectation = np.abs(base - 2.0 * value) if upper else base + 2.0 * value
    d_bound = (x0 + kappa) * bound + 4 * EPS * d_scale
    needs_more = (bound > TARGET_RELATIVE_ERROR * np.minimum(value, 0.5 * expectation)) | (
        d_bound > TARGET_RELATIVE_ERROR * np.abs(d_value)
    )
    series, series_d, series_bound = _on_subset(
        needs_more & (kappa >= 2.0 * np.abs(x0) + 4.0),
        lambda x, k: _key_by_series(x, k, upper),
        (x0, kappa),
        (0.0, 0.0, np.inf),
    )
    use = series_bound < bound
    value, d_value = np.where(use, series, value), np.where(use, series_d, d_value)
    bound = np.minimum(bound, series_bound)
    if upper:
        gaussian, gaussian_d, gaussian_bound = _on_subset(
            needs_more & (x0 >= GAUSSIAN_SERIES_MIN_X0),
            _key_q_by_gaussian_series,
            (x0, kappa),
            (0.0, 0.0, np.inf),
        )
        use = gaussian_bound < bound
        value, d_value = np.where(use, gaussian, value), np.where(use, gaussian_d, d_value)
        bound = np.minimum(bound, gaussian_bound)
    return np.maximum(value, 0.0), d_value, bound


def _key_kappa_derivative(x0, kappa, key, upper, *, with_scale=False):
    r"""Return $\partial K/\partial\kappa$ from $K$ itself.

    By parts, $\partial K_\Phi/\partial\kappa = hK_\Phi - \varphi(x_0)\Phi(x_0) - M_2$
    and $\partial K_Q/\partial\kappa = hK_Q + M_2 - \varphi(x_0)Q(x_0)$, with
    $h = x_0 + \kappa$ and $M_2 = \int_0^\infty e^{-\kappa s}\varphi(x_0+s)^2 ds$.
    With `with_scale`, also returns the sum of the magnitudes of the three terms,
    which sets the rounding error of their difference.
    """
    h = x0 + kappa
    m2 = _gaussian_square_laplace(x0, kappa)
    if upper:
        density_tail = np.exp(_log_phi(x0) + log_ndtr(-x0))
        derivative = h * key + m2 - density_tail
    else:
        density_tail = np.exp(_log_phi(x0) + log_ndtr(x0))
        derivative = h * key - m2 - density_tail
    if with_scale:
        return derivative, np.abs(h * key) + m2 + density_tail
    return derivative


def _gaussian_square_laplace(x0, kappa):
    r"""Return $\int_0^\infty e^{-\kappa s}\varphi(x_0+s)^2 ds
    = e^{-x_0^2}\operatorname{erfcx}(x_0+\kappa/2) / (4\sqrt\pi)$."""
    z = x0 + 0.5 * kappa
    # For z < 0, erfcx(z) = 2 e^{z^2} - erfcx(-z); the exponentials are combined
    # before they are evaluated so that neither overflows.
    positive = np.exp(-np.square(x0)) * erfcx(np.abs(z))
    negative = 2.0 * np.exp(np.minimum(kappa * (x0 + 0.25 * kappa), 0.0)) - positive
    return np.where(z >= 0, positive, negative) / (4.0 * np.sqrt(np.pi))


def squared_cdf_expectation(x0, kappa, *, upper=False):
    r"""Return $F$, $\partial F/\partial x_0$ and $\partial F/\partial\kappa$.

    $F = \mathbb E\,\Phi(x_0 + s)^2$, or $\mathbb E\,Q(x_0 + s)^2$ when `upper` is
    true, for $s \sim \mathrm{Exp}(\kappa)$; `x0` is $x_0$ and `kappa` the rate
    $\kappa > 0$. Arrays broadcast. Verified for $|x_0| \le 300$ and
    $3\times10^{-4} \le \kappa \le 1.5\times10^3$.
    """
    # NOTE: only finiteness and kappa > 0 are enforced; outside the verified ranges
    # above the result is computed but its accuracy is not tested.
    x0, kappa = np.broadcast_arrays(_checked("x0", x0), _checked("kappa", kappa, positive=True))
    shape = x0.shape
    # The selection below works on flat arrays; the shape is restored at the end.
    x0, kappa = x0.ravel(), kappa.ravel()
    key, d_key, key_bound = _key(x0, kappa, upper)
    value, d_x0, d_kappa = _expectation_from_key(x0, kappa, key, d_key, upper)
    if upper:
        # Q(x0)^2 - 2 K cancels where kappa is small against x0 (the generator's
        # samples all sit far above the discriminator's ramp); there the expectation
        # is summed directly as a positive series.
        bound = 2.0 * key_bound + 4 * EPS * np.exp(2.0 * log_ndtr(-x0))
        direct, direct_d_kappa, direct_bound = _on_subset(
            (x0 >= GAUSSIAN_SERIES_MIN_X0) & (bound > TARGET_RELATIVE_ERROR * value),
            _upper_expectation_by_gaussian_series,
            (x0, kappa),
            (0.0, 0.0, np.inf),
        )
        use = direct_bound < bound
        value = np.where(use, direct, value)
        d_kappa = np.where(use, direct_d_kappa, d_kappa)
    return tuple(r.reshape(shape) for r in (value, d_x0, d_kappa))


def squared_cdf_expectation_from_key(x0, kappa, key, *, upper=False):
    """Return what `squared_cdf_expectation` returns, from a given key integral K.

    This lets an estimate of K (the paper's Monte Carlo one) flow through the same
    formulas as the exact value.
    """
    x0, kappa, key = np.broadcast_arrays(*(np.asarray(v, float) for v in (x0, kappa, key)))
    d_key = _key_kappa_derivative(x0, kappa, key, upper)
    return _expectation_from_key(x0, kappa, key, d_key, upper)


def _expectation_from_key(x0, kappa, key, d_key, upper):
    """F, dF/dx0 and dF/dkappa from K: F = Phi^2 + 2K or Q^2 - 2K, dF/dx0 = +-2 kappa K."""
    if upper:
        base = np.exp(2.0 * log_ndtr(-x0))
        value = np.maximum(base - 2.0 * key, 0.0)
        return value, -2.0 * kappa * key, -2.0 * d_key
    base = np.exp(2.0 * log_ndtr(x0))
    return base + 2.0 * key, 2.0 * kappa * key, 2.0 * d_key


def _checked(name: str, value, *, positive: bool = False) -> np.ndarray:
    """Return `value` as a float array; raise ValueError naming it if invalid."""
    array = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(array)):
        bad = float(array[~np.isfinite(array)].flat[0])
        raise ValueError(f"{name} must be finite, got {name}={bad!r}; pass a finite number.")
    if positive and np.any(array <= 0):
        bad = float(array[array <= 0].flat[0])
        raise ValueError(f"{name} must be positive, got {name}={bad!r}; pass a value "
                         "greater than 0.")
    return array


def key_integral(alpha, beta, m, s):
    r"""Return $\tilde I_8 = \int_0^\infty \operatorname{erf}(\alpha x + \beta)\,
    \mathcal N(x; m, s)\,dx$ exactly, as $2\Phi_2(h_1, k; \rho) - \Phi(k)$.

    The arguments `alpha`, `beta`, `m`, `s` are $\alpha$, $\beta$, the mean $m$ and the
    variance $s > 0$; $h_1 = \sqrt2(\beta + \alpha m)/\sqrt{1 + 2\alpha^2 s}$,
    $k = m/\sqrt s$, $\rho = \sqrt2\alpha\sqrt s/\sqrt{1 + 2\alpha^2 s}$, and $\Phi_2$ is
    the standard bivariate normal CDF. The result is accurate in absolute terms; the
    cost itself goes through `squared_cdf_expectation`, which keeps relative accuracy.
    """
    alpha, beta, m, s = np.broadcast_arrays(
        _checked("alpha", alpha), _checked("beta", beta), _checked("m", m),
        _checked("s", s, positive=True),
    )
    scale = np.sqrt(1.0 + 2.0 * alpha * alpha * s)
    h1 = SQRT2 * (beta + alpha * m) / scale
    k = m / np.sqrt(s)
    rho = SQRT2 * alpha * np.sqrt(s) / scale
    log_lower_orthant, _ = _log_orthant(-h1, -k, rho)
    return 2.0 * np.exp(log_lower_orthant) - ndtr(k)


def key_integral_monte_carlo(alpha, beta, m, s, *, samples, seed):
    r"""Estimate $\tilde I_8$ as the paper does: a uniform sample mean on $[0, x_{max}]$.

    Draws `samples` points uniformly on $[0, x_{max}]$ with
    $x_{max} = \max(m, 0) + 10\sqrt s$ from `numpy.random.default_rng(seed)` and
    returns the estimate and its standard error, for scalar arguments.
    """
    rng = np.random.default_rng(seed)
    x_max = max(float(m), 0.0) + 10.0 * np.sqrt(float(s))
    x = rng.uniform(0.0, x_max, size=int(samples))
    normal = np.exp(-np.square(x - m) / (2.0 * s)) / np.sqrt(2.0 * np.pi * s)
    values = x_max * erf(alpha * x + beta) * normal
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))
