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
               "multinomial": [281], "collinear": [3100, 7158, 7182], "unpenalised": [],
               "groupmultinomial": [], "illposed": [16], "illposedmulti": [18],
               "singlefit": [6196], "glmstart": [13, 17, 26, 49, 176, 296]}


@pytest.mark.parametrize("family", sorted(CASES))
def test_no_false_certificate(family):
    seeds = REGRESSIONS[family] + list(range(2000, 2025))
    failures = []
    for seed in seeds:
        out = CASES[family](seed)
        if out not in (None, "ok"):
            failures.append(f"seed {seed}: {out}")
    assert not failures, "\n".join(failures)
