"""Brute-force quadrature references for the 1-D LS-GAN tests.

Every expectation is an integral over an exponential variable of a product of normal
CDFs. The integrand is evaluated in log space and divided by its maximum before
`scipy.integrate.quad` sees it, and the range is split around the maximum, so values
far below the double range's smallest normal number keep their relative accuracy.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.integrate import IntegrationWarning, quad
from scipy.special import log_ndtr

SQRT2 = np.sqrt(2.0)
LOG_SQRT_PI = 0.5 * np.log(np.pi)


def log_integral(log_integrand, scale, breakpoints=()):
    """Return log of the integral over [0, inf) of exp(log_integrand(u)).

    `scale` is the width of the integrand's main features; the range is searched on a
    grid, split around the maximum and at `breakpoints` (kinks, sign changes of a
    factor) and integrated piece by piece.
    """
    # Factors such as log(a t) meet t = 0 or subnormal products; their -inf is intended.
    with np.errstate(divide="ignore"):
        return _log_integral(log_integrand, scale, breakpoints)


def _log_integral(log_integrand, scale, breakpoints):
    grid = np.concatenate([[0.0], np.geomspace(1e-8, 1e8, 1201) * scale])
    values = np.array([log_integrand(u) for u in grid])
    peak = np.max(values)
    inside = grid[values > peak - 60.0]
    low, high = inside.min(), inside.max()
    extra = [p for p in breakpoints if p > 0]
    high = max([high, *extra])
    edges = np.unique(np.concatenate([[0.0, low], np.linspace(low, high, 60), extra]))
    total = 0.0
    pieces = list(zip(edges[:-1], edges[1:])) + [(high, np.inf)]
    # Pieces far below the peak cannot reach the relative tolerance and say so; their
    # contribution is below 1e-26 of the total.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)
        for left, right in pieces:
            total += quad(
                lambda u: np.exp(log_integrand(u) - peak),
                left,
                right,
                epsabs=1e-26,
                epsrel=1e-13,
                limit=200,
            )[0]
    return np.log(total) + peak


def log_d(u):
    """log D as a function of u = a x + b, D = Phi(sqrt2 u)."""
    return log_ndtr(SQRT2 * u)


def log_one_minus_d(u):
    return log_ndtr(-SQRT2 * u)


def log_d_slope(u):
    """log dD/du = log(exp(-u^2) / sqrt(pi))."""
    return -u * u - LOG_SQRT_PI


def feature_points(width, centre):
    """Breakpoints around a feature of the given width (the discriminator's ramp)."""
    points = [width * 10.0**k for k in range(-3, 4)]
    if centre > 0:
        points += [centre + width * k for k in (-5, -1, 0, 1, 5)]
    return tuple(p for p in points if p > 0)


def data_points(a, b, c):
    # In u = c x the ramp of D sits at u = -b c / a with width c / a.
    return feature_points(c / a, -b * c / a)


def fake_points(a, b, g, h):
    # In t = z^2 the ramp of D(g t + h) sits at t = (-b/a - h)/g with width 1/(a g).
    return feature_points(1.0 / (a * g), (-b / a - h) / g) + ((-h / g,) if h < 0 else ())


def cost_terms(a, b, g, h, c):
    """Return J1 and J2 by quadrature over u = c x and t = z^2, both Exp(1)."""
    j1 = log_integral(lambda u: 2 * log_d(a * u / c + b) - u, 1.0, data_points(a, b, c))
    j2 = log_integral(
        lambda t: 2 * log_one_minus_d(a * (g * t + h) + b) - t, 1.0, fake_points(a, b, g, h)
    )
    return np.exp(j1), np.exp(j2)


def gradient(a, b, g, h, c):
    """Return dJ/d(a, b, g, h) by quadrature of the differentiated integrands.

    Terms whose sign changes inside the range (the factor x or g t + h) are split into
    their positive and negative parts, each integrated in log space. Also returns the
    sum of the magnitudes of the parts, the scale of any cancellation.
    """

    def weight_data(u):
        x = u / c
        return np.log(2.0) + log_d(a * x + b) + log_d_slope(a * x + b) - u

    def weight_fake(t):
        y = g * t + h
        return np.log(2.0) + log_one_minus_d(a * y + b) + log_d_slope(a * y + b) - t

    fake = fake_points(a, b, g, h)

    def signed(log_weight, factor):
        def part(sign):
            def integrand(v):
                f = sign * factor(v)
                return log_weight(v) + np.log(f) if f > 0 else -np.inf

            with np.errstate(divide="ignore"):
                try:
                    return np.exp(log_integral(integrand, 1.0, breakpoints=fake))
                except ValueError:
                    return 0.0

        positive, negative = part(1.0), part(-1.0)
        return positive - negative, positive + negative

    data, fake = data_points(a, b, c), fake_points(a, b, g, h)
    db1 = np.exp(log_integral(weight_data, 1.0, data))
    da1 = np.exp(
        log_integral(lambda u: weight_data(u) + np.log(u / c) if u > 0 else -np.inf, 1.0, data)
    )
    db2 = -np.exp(log_integral(weight_fake, 1.0, fake))
    da2, da2_scale = signed(weight_fake, lambda t: -(g * t + h))
    dg2 = -np.exp(
        log_integral(lambda t: weight_fake(t) + np.log(a * t) if t > 0 else -np.inf, 1.0, fake)
    )
    dh2 = a * db2
    values = np.array([da1 + da2, db1 + db2, dg2, dh2])
    scales = np.array([da1 + da2_scale, db1 - db2, -dg2, -dh2])
    return values, scales
