#!/usr/bin/env python3
"""Fits the rational float32 tanh of FastMath.tanh and ScalarEmitter.fastTanh.

    python3 scripts/fit_tanh.py

tanh(x) = x * P(x^2) / Q(x^2) on |x| <= 9 (and +-1 beyond), P and Q of
degree 4 in x^2, Q(0) = 1 (P(0) is fitted; it rounds to 1.0 in float32),
the result clamped to [-1, 1]. The relative error is
minimised by iteratively reweighted least squares on the linearised problem
x*P(z) - t*(Q(z) - 1) = t (a Lawson-style approximation of the minimax fit).
Prints the float32 coefficients and the worst relative error of the float32
evaluation (Horner, no fused multiply-add, one division), which the
interpreter and the JIT perform identically. Nothing here is needed to build
or test dlmc.
"""

import numpy as np

LIMIT = 9.0
NUMERATOR, DENOMINATOR = 5, 4  # coefficients of P; of Q after its constant 1


def fit():
    xs = np.concatenate([np.linspace(0, 1, 20000), np.linspace(1, LIMIT, 40000)])[1:]
    t = np.tanh(xs)
    z = xs**2
    weights = np.ones_like(xs)
    best = None
    for _ in range(30):
        a = np.concatenate([np.stack([xs * z**k for k in range(NUMERATOR)], 1),
                            np.stack([-t * z**k for k in range(1, DENOMINATOR + 1)], 1)], 1)
        scale = weights / np.abs(t)
        solution, *_ = np.linalg.lstsq(a * scale[:, None], t * scale, rcond=None)
        p = solution[:NUMERATOR]
        q = np.concatenate([[1.0], solution[NUMERATOR:]])
        error = np.abs(xs * np.polyval(p[::-1], z) / np.polyval(q[::-1], z) - t) / t
        if best is None or error.max() < best[0]:
            best = (error.max(), p, q)
        weights = weights * (error / error.max()) ** 0.5 + 1e-12
    return best


def tanh32(values, p, q):
    x = np.minimum(np.maximum(np.float32(values), np.float32(-LIMIT)), np.float32(LIMIT))
    z = x * x
    numerator = np.float32(p[-1])
    for c in p[-2::-1]:
        numerator = numerator * z + np.float32(c)
    denominator = np.float32(q[-1])
    for c in q[-2::-1]:
        denominator = denominator * z + np.float32(c)
    return np.minimum(np.maximum(x * numerator / denominator, np.float32(-1)), np.float32(1))


def main():
    fitted, p, q = fit()
    p32, q32 = p.astype(np.float32), q.astype(np.float32)
    print("fit relative error", fitted)
    print("P (constant first):", [float(c) for c in p32])
    print("Q (constant first):", [float(c) for c in q32])
    x = np.float32(np.concatenate([np.linspace(-12, 12, 2_000_001), np.arange(-100, 89, 0.0137)]))
    got = tanh32(x, p32, q32).astype(np.float64)
    exact = np.float32(np.tanh(x.astype(np.float64))).astype(np.float64)
    keep = (exact != 0) & (np.abs(exact) >= np.finfo(np.float32).tiny)
    print("float32 worst relative error", (np.abs(got[keep] - exact[keep]) / np.abs(exact[keep])).max())


if __name__ == "__main__":
    main()
