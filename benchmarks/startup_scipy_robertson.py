"""Robertson's kinetics with scipy, as a user would script it: the reference of
`startup.py` (the same span, tolerances and save times as examples/robertson.sf,
BDF with the analytic Jacobian), printing the final values."""

import numpy as np
from scipy.integrate import solve_ivp

K1, K2, K3 = 0.04, 3e7, 1e4


def rhs(t, y):
    y1, y2, y3 = y
    return [-K1 * y1 + K3 * y2 * y3, K1 * y1 - K2 * y2**2 - K3 * y2 * y3, K2 * y2**2]


def jacobian(t, y):
    y1, y2, y3 = y
    return [[-K1, K3 * y3, K3 * y2],
            [K1, -2 * K2 * y2 - K3 * y3, -K3 * y2],
            [0.0, 2 * K2 * y2, 0.0]]


saves = [0.0, 1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100, 1000, 1e4, 1e5]
sol = solve_ivp(rhs, (0.0, 1e5), [1.0, 0.0, 0.0], method="BDF", jac=jacobian, rtol=1e-8,
                atol=1e-10, t_eval=saves)
for name, value in zip(("y1", "y2", "y3"), sol.y[:, -1]):
    print(f"  {name}(100000) = {np.format_float_positional(value, 8)}")
