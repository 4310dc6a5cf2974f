"""A single fit on dense data with n >= p (``ElasticNetRegressor``, ``precompute="auto"``)
starts on the residual and moves to covariance mode once the residual work passes its
budget (:mod:`sklearn_normpen._solvers.mode_switch`). Both routes must end at a point
certified by the independent NumPy gap, at the objective of the covariance-mode fit."""
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import _oracle as oracle
from sklearn_normpen import ElasticNetRegressor
from sklearn_normpen._design import Design
from sklearn_normpen._solvers import mode_switch


@pytest.fixture
def spy(monkeypatch):
    """The GramOnDemand problems made, and whether each formed its Gram."""
    made, grams = [], []
    init, gram_stats = mode_switch.GramOnDemand.__init__, Design.gram_stats

    def recording_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append(self)

    def recording_stats(self, *args, **kwargs):
        grams.append(self)
        return gram_stats(self, *args, **kwargs)

    monkeypatch.setattr(mode_switch.GramOnDemand, "__init__", recording_init)
    monkeypatch.setattr(Design, "gram_stats", recording_stats)
    return made, grams


def _data(n, p, corr, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    X = np.sqrt(1 - corr) * rng.standard_normal((n, p)) + np.sqrt(corr) * rng.standard_normal(
        (n, 1))
    X[:, 0] += offset  # mean >> spread (with an intercept)
    w = np.zeros(p)
    w[rng.choice(p, max(p // 20, 3), replace=False)] = rng.standard_normal(max(p // 20, 3))
    return np.asfortranarray(X), X @ w + rng.standard_normal(n)


def _amax(X, y, l1_ratio=1.0):
    Xc, yc = X - X.mean(0), y - y.mean()
    return np.max(np.abs(Xc.T @ yc)) / len(y) / l1_ratio


def _fit(X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return ElasticNetRegressor(standardize=False, **kw).fit(X, y)


def _check_certified(est, X, y):
    gap = oracle.enet_gap(X, y, est.coef_, est.intercept_, est.alpha, est.l1_ratio)
    null = oracle.null_deviance(X, y)
    assert -1e-12 * null <= gap <= est.tol * null * (1 + 1e-9)  # (oracle's rounding)
    return oracle.enet_primal(X, y, est.coef_, est.intercept_, est.alpha, est.l1_ratio)


def test_sparse_solution_stays_on_the_residual(spy):
    made, grams = spy
    X, y = _data(3000, 400, 0.0)
    est = _fit(X, y, alpha=0.1 * _amax(X, y), l1_ratio=1.0)
    assert len(made) == 1 and made[0].mode == "dense" and grams == []
    assert 0 < made[0].work <= made[0].budget
    _check_certified(est, X, y)


def test_a_walk_from_alpha_max_takes_the_gram_at_once(spy):
    # far below alpha_max the lead-in's solves are cheap in covariance mode: no residual
    # work at all
    made, grams = spy
    X, y = _data(3000, 400, 0.0)
    est = _fit(X, y, alpha=1e-3 * _amax(X, y), l1_ratio=1.0)
    assert len(made) == 1 and made[0].mode == "gram" and made[0].work == 0
    assert len(grams) == 1
    _check_certified(est, X, y)


@pytest.mark.parametrize("dtype, walks_on_residual", [(np.float64, True),
                                                       (np.float32, False)])
def test_a_short_walk_over_many_features_stays_on_the_residual(spy, dtype,
                                                               walks_on_residual):
    # 1000 features: the budget (31250 passes) affords WALK_PASSES (2) passes a solve of a
    # 6-solve walk (float64); a float32 walk takes the Gram at once
    made, grams = spy
    X, y = _data(3000, 1000, 0.0)
    est = _fit(X.astype(dtype), y, alpha=1e-2 * _amax(X, y), l1_ratio=1.0)
    assert len(made) == 1
    assert (made[0].mode == "dense") == walks_on_residual == (grams == [])
    assert (made[0].work > 0) == walks_on_residual
    if dtype == np.float64:
        _check_certified(est, X, y)


@pytest.mark.parametrize("frac, walks_on_residual", [(1e-2, True), (1e-3, False)])
def test_the_walk_is_judged_at_two_passes_a_solve(spy, frac, walks_on_residual):
    # 400 features, a budget of 5000 passes: a 6-solve walk (alpha_max/100) at 2 passes a
    # solve over every feature, 4800, stays on the residual; a 9-solve walk
    # (alpha_max/1000), 7200, takes the Gram at once
    assert mode_switch.WALK_PASSES == 2
    made, grams = spy
    X, y = _data(3000, 400, 0.0)
    est = _fit(X, y, alpha=frac * _amax(X, y), l1_ratio=1.0)
    assert len(made) == 1
    assert (made[0].mode == "dense") == walks_on_residual
    assert (made[0].work > 0) == walks_on_residual
    _check_certified(est, X, y)


def _record_alphas(monkeypatch, cls):
    """The list the alphas of every ``cls.solve`` call are appended to."""
    alphas = []
    solve = cls.solve

    def recording(self, w, penalty, alpha, *args, **kwargs):
        alphas.append(float(alpha))
        return solve(self, w, penalty, alpha, *args, **kwargs)

    monkeypatch.setattr(cls, "solve", recording)
    return alphas


@pytest.mark.parametrize("dtype, solves", [(np.float64, 4), (np.float32, 6)])
def test_the_walk_is_sparser_on_the_residual(spy, monkeypatch, dtype, solves):
    # 1.8 decades below alpha_max: on the residual (float64) the walk solves at 2 alphas
    # a decade (each solve's screening and certificate pass over all of X), on the Gram
    # (float32 takes it at once) at the path's 3: ceil(2 * 1.8) = 4 and ceil(3 * 1.8) = 6
    # distinct alphas, the target's included
    alphas = _record_alphas(monkeypatch, mode_switch.GramOnDemand)
    made, grams = spy
    X, y = _data(3000, 1000, 0.0)
    est = _fit(X.astype(dtype), y, alpha=1.5e-2 * _amax(X, y), l1_ratio=1.0)
    assert (made[0].mode == "dense") == (dtype == np.float64) == (grams == [])
    assert len(set(alphas)) == solves
    assert min(alphas) == pytest.approx(est.alpha, rel=1e-12)
    if dtype == np.float64:
        _check_certified(est, X, y)


@pytest.mark.parametrize("precompute, solves", [(False, 4), (True, 6)])
def test_a_residual_fit_walks_at_two_alphas_a_decade(monkeypatch, precompute, solves):
    # precompute=False (no GramOnDemand) walks as the residual route of auto: 1.8 decades
    # at 2 a decade; covariance mode at the path's 3
    from sklearn_normpen._solvers import coordinate_descent as cd
    alphas = _record_alphas(monkeypatch, cd.EnetProblem)
    X, y = _data(3000, 100, 0.0)
    est = _fit(X, y, alpha=1.5e-2 * _amax(X, y), l1_ratio=1.0, precompute=precompute)
    assert len(set(alphas)) == solves
    assert min(alphas) == pytest.approx(est.alpha, rel=1e-12)
    _check_certified(est, X, y)


@pytest.mark.parametrize("n, p, corr, frac", [(8000, 300, 0.9, 0.5), (20000, 200, 0.95, 0.2)])
def test_crawling_residual_moves_to_the_gram(spy, n, p, corr, frac):
    made, grams = spy
    X, y = _data(n, p, corr)  # equicorrelated columns, an elastic net
    alpha = frac * _amax(X, y, 0.5)
    # every solve ends certified at its own target: a residual run cut short by the
    # budget is continued, then finished on the Gram
    solves = []
    solve = mode_switch.GramOnDemand.solve

    def recording(self, w, penalty, a, tol_abs, *args, **kwargs):
        cert, epochs = solve(self, w, penalty, a, tol_abs, *args, **kwargs)
        solves.append(cert.gap <= tol_abs)
        return cert, epochs

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mode_switch.GramOnDemand, "solve", recording)
        est = _fit(X, y, alpha=alpha, l1_ratio=0.5)
    assert solves and all(solves)
    assert len(made) == 1 and made[0].mode == "gram" and len(grams) == 1
    assert made[0].work >= 2 * p  # (residual runs first)
    primal = _check_certified(est, X, y)
    ref = _fit(X, y, alpha=alpha, l1_ratio=0.5, precompute=True)
    tol = est.tol * oracle.null_deviance(X, y)
    assert abs(primal - _check_certified(ref, X, y)) <= tol


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kw", [dict(), dict(standardize=True, penalty_factor="zero1"),
                                dict(offset=1e4)])
def test_switched_fits_certify_in_every_setting(spy, dtype, kw):
    made, _ = spy
    kw = dict(kw)
    X, y = _data(5000, 300, 0.8, seed=1, offset=kw.pop("offset", 0.0))
    X = X.astype(dtype)
    pf = None
    if kw.pop("penalty_factor", None) == "zero1":
        pf = np.ones(X.shape[1])
        pf[1] = 0  # an unpenalised feature
    std = kw.pop("standardize", False)
    X64 = X.astype(np.float64)
    alpha = 0.3 * _amax(X64, y, 0.9)  # (no walk: residual runs first)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = ElasticNetRegressor(alpha=alpha, l1_ratio=0.9, standardize=std,
                                  penalty_factor=pf).fit(X, y)
    # residual runs first (p = 300: room for a few in the budget), the Gram where they
    # did not certify within it
    assert len(made) == 1 and made[0].work > 0
    assert est.coef_.dtype == dtype
    sigma = X64.std(axis=0) if std else np.ones(X.shape[1])
    f = np.ones(X.shape[1]) if pf is None else pf
    gap = oracle.enet_gap(X64, y, est.coef_.astype(np.float64), est.intercept_, alpha, 0.9,
                          pf_l1=f * sigma, pf_l2=f * sigma ** 2)
    null = oracle.null_deviance(X64, y)
    assert -1e-12 * null <= gap <= est.tol * null * (1 + 1e-6)  # (oracle's rounding)


def test_few_features_form_the_gram_at_once(spy):
    made, grams = spy
    X, y = _data(3000, 60, 0.0)
    assert not mode_switch.worth_trying(60) and mode_switch.worth_trying(64)
    _check_certified(_fit(X, y, alpha=0.1 * _amax(X, y)), X, y)
    assert made == [] and len(grams) == 1


def test_precompute_false_and_true_are_not_switched(spy):
    made, grams = spy
    X, y = _data(3000, 400, 0.0)
    alpha = 0.1 * _amax(X, y)
    _fit(X, y, alpha=alpha, precompute=False)
    assert made == [] and grams == []
    _fit(X, y, alpha=alpha, precompute=True)
    assert made == [] and len(grams) == 1


def test_budget_bounds_the_first_run():
    # a point's first run has at most the epochs the budget affords at one pass over
    # every feature each; the runs end in covariance mode here
    X, y = _data(8000, 300, 0.9)
    est = ElasticNetRegressor(alpha=0.5 * _amax(X, y, 0.5), l1_ratio=0.5, standardize=False)
    from sklearn_normpen._solvers.coordinate_descent import EnetProblem
    caps = []
    solve = EnetProblem.solve

    def recording(self, w, penalty, alpha, tol_abs, max_iter=1000, alpha_prev=None):
        caps.append((self.mode, max_iter))
        return solve(self, w, penalty, alpha, tol_abs, max_iter, alpha_prev)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(EnetProblem, "solve", recording)
        est.fit(X, y)
    p = X.shape[1]
    budget = mode_switch.residual_budget(p)
    assert caps[0][0] == "dense" and 1 <= caps[0][1] <= (budget - p) // p
    assert caps[-1][0] == "gram"


def _kernel_call(X, y, L1, max_iter, g_valid=False):
    """One residual-kernel call (lasso at n-scale ``L1``, from 0, no prediction) with
    test_predicted_start's arguments; its return tuple."""
    from test_predicted_start import _kernel_args

    from sklearn_normpen._kernels import _cd_enet
    n, p = X.shape
    args = _kernel_args(X, y, np.zeros(p), L1 / n, np.zeros(0))
    args[16], args[18], args[19] = 1e-10, max_iter, g_valid  # tol, max_iter, g_valid
    return _cd_enet.enet_cd_residual(*args)


def test_the_kernel_counts_the_columns_it_reads():
    X, y = _data(200, 30, 0.0)
    L1 = 0.5 * np.max(np.abs((X - X.mean(0)).T @ (y - y.mean())))
    # no epochs: the gradient pass alone, one column per feature
    assert _kernel_call(X, y, L1, 0)[-1] == 30
    # an exact gradient on entry (g_valid) and no epochs: nothing read
    assert _kernel_call(X, y, L1, 0, g_valid=True)[-1] == 0
    # epochs: at least one column per coordinate update of each epoch, and within the
    # full passes, the inner checks and the Anderson residuals (3 columns an update)
    gap, kkt, epochs, done, _, _, passes = _kernel_call(X, y, L1, 50)
    assert done and epochs >= 1
    assert 30 + epochs <= passes <= 30 * (1 + 3 * epochs) * 2


def test_the_switch_comes_when_the_counted_work_reaches_the_budget(spy):
    # equicorrelated columns at alpha_max/100: the residual walk runs out of budget; the
    # switch comes once the residual problem's own count (the kernel's columns, the
    # gradients formed in Python, the Newton steps' Gram products at BLAS-3 speed) has
    # spent it, not much later
    made, grams = spy
    X, y = _data(2000, 1000, 0.9)
    est = _fit(X, y, alpha=1e-2 * _amax(X, y), l1_ratio=1.0)
    g = made[0]
    assert g.mode == "gram" and len(grams) == 1
    res = g._residual
    spent = res.column_passes + res.gram_products / mode_switch.BLAS3_SPEEDUP
    assert g.work == pytest.approx(spent - X.shape[1])  # (less the null fit's pass)
    assert 0.9 * g.budget <= g.work <= 1.5 * g.budget
    _check_certified(est, X, y)
