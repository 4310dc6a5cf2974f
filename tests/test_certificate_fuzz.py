"""A few seeds of the false-certificate fuzzer (``tests/fuzz_certificates.py``, whose
docstring states the check): on random problems over dtype, layout, weights, offset
columns, scales, standardisation and intercept, no certified point may sit above the
optimum by more than its tolerance, nor by more than its reported gap."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from fuzz_certificates import CASES  # noqa: E402

#: seeds that reproduce the defects the fuzzer found (fixed), then plain ranges
REGRESSIONS = {"gaussian": [], "glm": [3, 81, 101, 162, 241, 569], "multitask": [],
               "multinomial": [281], "collinear": [7158, 7182], "unpenalised": [],
               "groupmultinomial": []}


@pytest.mark.parametrize("family", sorted(CASES))
def test_no_false_certificate(family):
    seeds = REGRESSIONS[family] + list(range(2000, 2025))
    failures = []
    for seed in seeds:
        out = CASES[family](seed)
        if out not in (None, "ok"):
            failures.append(f"seed {seed}: {out}")
    assert not failures, "\n".join(failures)


@pytest.mark.xfail(strict=True, reason=(
    "known, not fixed (2026-12-06): float32 elastic net in covariance mode with nearly "
    "collinear unpenalised features (penalty_factor 0): the projection off the "
    "unpenalised span solves the normal equations of a numerically singular Q_UU "
    "(cond 7e17), leaves g_U's near-null component unprojected while setting gp[U] = 0, "
    "and reports a gap of 1.1e-7 at a point 2.4e-2 of the null deviance above the "
    "float64 optimum. The fix (a projection from the explicit columns' QR, in every "
    "quadratic problem with unpenalised features) is planned work; this records the "
    "defect so the suite cannot hide it, and fails once it is fixed"))
def test_known_false_certificate_collinear_unpenalised_float32():
    """Fuzzer "collinear" seed 3100 (found by a long run, 3000-3300): kept here so that a
    fix turns this strict xfail into a failure to be removed."""
    assert CASES["collinear"](3100) == "ok"
