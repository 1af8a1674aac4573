r"""Two linear(ised) games: the bilinear game and the Dirac GAN, with exact eigenvalues.

Backs the chapter "Training dynamics" (docs/chapters/training-dynamics.md). Sources:
Mescheder, Geiger and Nowozin, "Which Training Methods for GANs do actually Converge?"
(ICML 2018), which introduces the Dirac GAN and analyses gradient penalties and instance
noise through the eigenvalues of the Jacobian of the gradient field; Goodfellow et al.,
"Generative Adversarial Nets" (NeurIPS 2014) for the losses.

Bilinear game. $V(x, y) = x y$; the minimising player $x$ and the maximising player $y$
take gradient steps of size $\eta$ (`step_size`):

* simultaneous: $x' = x - \eta y$, $y' = y + \eta x$. The update is linear with
  Jacobian $\begin{pmatrix}1 & -\eta\\ \eta & 1\end{pmatrix}$, eigenvalues
  $1 \pm i\eta$ of modulus $\sqrt{1+\eta^2} > 1$: every orbit spirals outwards, its
  radius multiplied by exactly $\sqrt{1+\eta^2}$ per step.
* alternating: $x' = x - \eta y$, then $y' = y + \eta x'$. Jacobian
  $\begin{pmatrix}1 & -\eta\\ \eta & 1-\eta^2\end{pmatrix}$ with determinant 1 and
  trace $2 - \eta^2$, so for $0 < \eta < 2$ the eigenvalues are
  $1 - \eta^2/2 \pm i\eta\sqrt{1 - \eta^2/4}$, of modulus exactly 1: the iterates stay
  on the ellipse $x^2 + y^2 - \eta x y = \text{const}$ and neither converge nor diverge.

Dirac GAN. The data is a point mass at 0, the generator a point mass at $\theta$, the
discriminator $D(x) = \sigma(\psi x)$. With $f(t) = \log\sigma(t)$ the value is
$V(\theta, \psi) = f(\psi \cdot 0) + f(-\psi\theta)$; the discriminator ascends
$V - \tfrac{\gamma}{2}\psi^2$ (the R1 penalty, since $\nabla_x(\psi x) = \psi$), and the
generator descends $V$ (saturating loss) or ascends $f(\psi\theta)$ (non-saturating
loss). Instance noise adds $\varepsilon \sim \mathcal N(0, \sigma^2)$ to real and
generated points alike; its expectation is computed by Gauss-Hermite quadrature. At the
equilibrium $(\theta, \psi) = (0, 0)$ both losses give the gradient-field Jacobian
$\begin{pmatrix}0 & f'(0)\\ -f'(0) & -c\end{pmatrix}$, $f'(0) = \tfrac12$,
$c = \gamma - 2\sigma^2 f''(0) = \gamma + \sigma^2/2$, with eigenvalues
$\lambda = (-c \pm \sqrt{c^2 - 1})/2$: purely imaginary ($\pm i/2$) without
regularisation, with real part $< 0$ once $\gamma > 0$ or $\sigma > 0$.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "DIRAC_LOSSES",
    "SCHEMES",
    "bilinear_eigenvalues",
    "bilinear_jacobian",
    "bilinear_trajectory",
    "dirac_field",
    "dirac_field_jacobian",
    "dirac_field_eigenvalues",
    "dirac_trajectory",
    "dirac_update_eigenvalues",
    "dirac_update_jacobian",
    "spectral_radius",
]

SCHEMES = ("simultaneous", "alternating")
DIRAC_LOSSES = ("saturating", "non_saturating")
# Gauss-Hermite nodes for E[g(eps)], eps ~ N(0, sigma^2); 40 nodes integrate the smooth
# log-sigmoid terms to about machine precision for the sigma * psi used in the book.
_HERMITE_NODES, _HERMITE_WEIGHTS = np.polynomial.hermite_e.hermegauss(40)
_HERMITE_WEIGHTS = _HERMITE_WEIGHTS / math.sqrt(2 * math.pi)


def _check_step_size(step_size: float) -> float:
    if not (isinstance(step_size, (int, float)) and math.isfinite(step_size)
            and step_size > 0):
        raise ValueError(
            f"step_size must be a finite number > 0, got step_size={step_size!r}."
        )
    return float(step_size)


def _check_scheme(scheme: str) -> str:
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got scheme={scheme!r}.")
    return scheme


def _check_steps(steps: int) -> int:
    if not (isinstance(steps, int) and steps >= 0):
        raise ValueError(f"steps must be an integer >= 0, got steps={steps!r}.")
    return steps


def _check_finite(name: str, value: float) -> float:
    if not (isinstance(value, (int, float)) and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number, got {name}={value!r}.")
    return float(value)


def _check_regularisation(gradient_penalty: float, noise_std: float) -> None:
    for name, value in (("gradient_penalty", gradient_penalty), ("noise_std", noise_std)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise ValueError(
                f"{name} must be a finite number >= 0, got {name}={value!r}; "
                "pass 0 to turn it off."
            )


def spectral_radius(matrix) -> float:
    """Return the largest eigenvalue modulus of a square matrix."""
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(matrix, dtype=float)))))


# --- The bilinear game V(x, y) = x y ------------------------------------------------


def bilinear_jacobian(step_size: float, scheme: str) -> np.ndarray:
    r"""Return the Jacobian of one gradient step on $V(x, y) = xy$ (the map is linear).

    The argument `step_size` is $\eta$; `scheme` is "simultaneous" or "alternating"
    (the minimising player $x$ moves first).
    """
    eta = _check_step_size(step_size)
    if _check_scheme(scheme) == "simultaneous":
        return np.array([[1.0, -eta], [eta, 1.0]])
    return np.array([[1.0, -eta], [eta, 1.0 - eta**2]])


def bilinear_eigenvalues(step_size: float, scheme: str) -> np.ndarray:
    r"""Return the two eigenvalues of `bilinear_jacobian` in closed form.

    Simultaneous: $1 \pm i\eta$. Alternating: the roots of
    $\lambda^2 - (2 - \eta^2)\lambda + 1$, complex of modulus 1 when $\eta < 2$.
    """
    eta = _check_step_size(step_size)
    if _check_scheme(scheme) == "simultaneous":
        return np.array([1 + 1j * eta, 1 - 1j * eta])
    half_trace = 1 - eta**2 / 2
    root = np.sqrt(complex(half_trace**2 - 1))
    return np.array([half_trace + root, half_trace - root])


def bilinear_trajectory(x0: float, y0: float, step_size: float, steps: int,
                        scheme: str) -> np.ndarray:
    r"""Iterate gradient steps on $V(x, y) = xy$ from $(x_0, y_0)$ = (`x0`, `y0`).

    Returns an array of shape `(steps + 1, 2)` whose row k is $(x_k, y_k)$.
    """
    x = _check_finite("x0", x0)
    y = _check_finite("y0", y0)
    eta = _check_step_size(step_size)
    _check_scheme(scheme)
    path = np.empty((_check_steps(steps) + 1, 2))
    path[0] = x, y
    for k in range(1, steps + 1):
        if scheme == "simultaneous":
            x, y = x - eta * y, y + eta * x
        else:
            x = x - eta * y
            y = y + eta * x
        path[k] = x, y
    return path


# --- The Dirac GAN --------------------------------------------------------------------


def _dlogsigmoid(t):
    """Derivative of log sigmoid(t), which is sigmoid(-t), written without overflow."""
    return 0.5 * (1.0 - np.tanh(np.asarray(t) / 2.0))


def dirac_field(theta: float, psi: float, *, loss: str = "non_saturating",
                gradient_penalty: float = 0.0, noise_std: float = 0.0) -> np.ndarray:
    r"""Return the update direction $(\dot\theta, \dot\psi)$ of the Dirac GAN.

    $\dot\theta$ is minus the gradient of the generator's loss in $\theta$ (`theta`),
    $\dot\psi$ the gradient of the discriminator's objective in $\psi$ (`psi`),
    including $-\gamma\psi$ for the R1 penalty $\gamma$ (`gradient_penalty`) and, for
    instance noise of standard deviation $\sigma$ (`noise_std`), the expectation over
    $\varepsilon \sim \mathcal N(0, \sigma^2)$ by Gauss-Hermite quadrature.
    """
    theta = _check_finite("theta", theta)
    psi = _check_finite("psi", psi)
    if loss not in DIRAC_LOSSES:
        raise ValueError(f"loss must be one of {DIRAC_LOSSES}, got loss={loss!r}.")
    _check_regularisation(gradient_penalty, noise_std)

    eps = noise_std * _HERMITE_NODES
    fake = theta + eps  # generated points with noise
    real = eps  # data points (at 0) with noise
    # d/dpsi [f(psi * real) + f(-psi * fake)]
    dpsi = np.sum(_HERMITE_WEIGHTS * (real * _dlogsigmoid(psi * real)
                                      - fake * _dlogsigmoid(-psi * fake)))
    dpsi -= gradient_penalty * psi
    if loss == "saturating":
        # -d/dtheta f(-psi * fake) = psi f'(-psi * fake)
        dtheta = np.sum(_HERMITE_WEIGHTS * psi * _dlogsigmoid(-psi * fake))
    else:
        # +d/dtheta f(psi * fake) = psi f'(psi * fake)
        dtheta = np.sum(_HERMITE_WEIGHTS * psi * _dlogsigmoid(psi * fake))
    return np.array([dtheta, dpsi])


def dirac_field_jacobian(*, gradient_penalty: float = 0.0,
                         noise_std: float = 0.0) -> np.ndarray:
    r"""Return the exact Jacobian of `dirac_field` at the equilibrium $(0, 0)$.

    It is $\begin{pmatrix}0 & 1/2\\ -1/2 & -c\end{pmatrix}$ with
    $c = \gamma + \sigma^2/2$, for both losses; $\gamma$ is `gradient_penalty` and
    $\sigma$ is `noise_std`.
    """
    _check_regularisation(gradient_penalty, noise_std)
    damping = gradient_penalty + noise_std**2 / 2
    return np.array([[0.0, 0.5], [-0.5, -damping]])


def dirac_field_eigenvalues(*, gradient_penalty: float = 0.0,
                            noise_std: float = 0.0) -> np.ndarray:
    r"""Return the eigenvalues $(-c \pm \sqrt{c^2 - 1})/2$ of `dirac_field_jacobian`."""
    _check_regularisation(gradient_penalty, noise_std)
    damping = gradient_penalty + noise_std**2 / 2
    root = np.sqrt(complex(damping**2 - 1))
    return np.array([(-damping + root) / 2, (-damping - root) / 2])


def dirac_update_jacobian(step_size: float, scheme: str, *, gradient_penalty: float = 0.0,
                          noise_std: float = 0.0) -> np.ndarray:
    r"""Return the exact Jacobian at $(0, 0)$ of one Dirac GAN step of size $h$.

    Simultaneous: $I + hJ$. Alternating (generator first):
    $\begin{pmatrix}1 & 0\\ -h/2 & 1 - hc\end{pmatrix}
    \begin{pmatrix}1 & h/2\\ 0 & 1\end{pmatrix}$. $J$ and $c$ are as in
    `dirac_field_jacobian`; $h$ is `step_size`.
    """
    h = _check_step_size(step_size)
    jacobian = dirac_field_jacobian(gradient_penalty=gradient_penalty, noise_std=noise_std)
    if _check_scheme(scheme) == "simultaneous":
        return np.eye(2) + h * jacobian
    generator_step = np.array([[1.0, h * jacobian[0, 1]], [0.0, 1.0]])
    discriminator_step = np.array([[1.0, 0.0], h * jacobian[1] + np.array([0.0, 1.0])])
    return discriminator_step @ generator_step


def dirac_update_eigenvalues(step_size: float, scheme: str, *,
                             gradient_penalty: float = 0.0,
                             noise_std: float = 0.0) -> np.ndarray:
    r"""Return the eigenvalues of `dirac_update_jacobian` in closed form.

    Simultaneous: $1 + h\lambda$ for each eigenvalue $\lambda$ of the field. Both
    schemes: the roots of $\mu^2 - \operatorname{tr}A\,\mu + \det A$ for the 2-by-2
    Jacobian $A$, whose trace and determinant are
    $2 - hc - h^2/4$ and $1 - hc$ (alternating).
    """
    h = _check_step_size(step_size)
    if _check_scheme(scheme) == "simultaneous":
        return 1 + h * dirac_field_eigenvalues(gradient_penalty=gradient_penalty,
                                               noise_std=noise_std)
    _check_regularisation(gradient_penalty, noise_std)
    damping = gradient_penalty + noise_std**2 / 2
    trace = 2 - h * damping - h**2 / 4
    determinant = 1 - h * damping
    root = np.sqrt(complex(trace**2 / 4 - determinant))
    return np.array([trace / 2 + root, trace / 2 - root])


def dirac_trajectory(theta0: float, psi0: float, step_size: float, steps: int,
                     scheme: str, *, loss: str = "non_saturating",
                     gradient_penalty: float = 0.0, noise_std: float = 0.0) -> np.ndarray:
    r"""Iterate Dirac GAN steps from $(\theta_0, \psi_0)$ = (`theta0`, `psi0`).

    Returns an array of shape `(steps + 1, 2)` whose row k is $(\theta_k, \psi_k)$.
    In the alternating scheme the generator moves first.
    """
    theta = _check_finite("theta0", theta0)
    psi = _check_finite("psi0", psi0)
    h = _check_step_size(step_size)
    _check_scheme(scheme)
    options = {"loss": loss, "gradient_penalty": gradient_penalty, "noise_std": noise_std}
    path = np.empty((_check_steps(steps) + 1, 2))
    path[0] = theta, psi
    for k in range(1, steps + 1):
        if scheme == "simultaneous":
            dtheta, dpsi = dirac_field(theta, psi, **options)
            theta, psi = theta + h * dtheta, psi + h * dpsi
        else:
            theta = theta + h * dirac_field(theta, psi, **options)[0]
            psi = psi + h * dirac_field(theta, psi, **options)[1]
        path[k] = theta, psi
    return path
