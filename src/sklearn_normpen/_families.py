"""``family=`` of the public path functions (glmnet's names): the non-Gaussian families.

:func:`~sklearn_normpen.enet_path` and :func:`~sklearn_normpen.group_lasso_path` keep their
Gaussian body and hand every other family here. Nothing is solved differently from the
estimators: the binomial and Poisson paths are the one path loop on a
:class:`~sklearn_normpen._solvers.prox_newton.GLMProblem` (coordinate descent or, for
groups, block coordinate descent inside proximal Newton), ``"mgaussian"`` is
:func:`~sklearn_normpen.multitask_enet_path`.

A GLM path may end before its grid does (glmnet's rules: deviance ratio above 0.999, or
its relative change below 1e-5 after 5 points; or ``dfmax``/``pmax``): the returned
alphas are then the points solved, and one ``UserWarning`` names the reason.
"""
import numpy as np
import scipy.sparse as sp
from sklearn.utils.multiclass import check_classification_targets

from ._design import Design, column_scale, inverse_std
from ._grid import make_grid
from ._path import compute_path, warn_stopped, warn_unconverged
from ._validation import (_check_exclude, _check_limits, validate_coef_init,
                          validate_path_input, validate_penalty_factor,
                          validate_sample_weight)
from .datafits import Logistic, Poisson

ENET_FAMILIES = ("gaussian", "binomial", "poisson", "mgaussian", "multinomial")
GROUP_FAMILIES = ("gaussian", "binomial", "poisson")
# families under construction elsewhere: named in the error instead of "unknown"
_PENDING = {"multinomial": "the multinomial family is available in enet_path (ungrouped) "
                           "and through ElasticNetClassifier[PathCV] (grouped too)"}
_DATAFITS = {"binomial": Logistic, "poisson": Poisson}


def check_family(family, allowed, caller):
    """``family`` if it is one of ``allowed`` (a clear error naming it otherwise)."""
    if isinstance(family, str) and family in allowed:
        return family
    if isinstance(family, str) and family in _PENDING:
        raise ValueError(f"{caller}: family={family!r}: {_PENDING[family]}.")
    raise ValueError(f"{caller}: family must be one of {list(allowed)}; got {family!r}.")


def encode_binomial(y):
    """``(y01, classes)``: two classes of any label type, ``classes[1]`` (the larger in
    ``np.unique`` order, as ``ElasticNetClassifier.classes_[1]``) coded 1."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    check_classification_targets(y)
    classes = np.unique(y)
    if classes.size != 2:
        raise ValueError(f"family='binomial' needs exactly 2 classes in y; got "
                         f"{classes.size} ({classes[:5].tolist()!r}"
                         f"{' ...' if classes.size > 5 else ''}).")
    return (y == classes[1]).astype(np.float64), classes


def _glm_input(family, X, y, sample_weight, caller):
    """Validated ``(X, y, sw)`` of a GLM family (0/1 labels for the binomial)."""
    if family == "binomial":
        y = encode_binomial(y)[0]
    X, y = validate_path_input(X, y, caller=caller)
    sw = validate_sample_weight(sample_weight, X)
    y64 = np.asarray(y, dtype=np.float64)
    s = np.ones_like(y64) if sw is None else np.asarray(sw, dtype=np.float64)
    if family == "binomial":
        w1 = float(s @ y64)
        if w1 <= 0 or w1 >= float(s.sum()):
            raise ValueError("family='binomial': only one class has positive "
                             "sample_weight; the fit needs weight on both classes.")
    else:
        from .poisson import check_counts
        check_counts(y64, s)
    return X, y, sw


def _reject(caller, family, **unsupported):
    bad = [k for k, v in unsupported.items() if v]
    if bad:
        raise ValueError(f"{caller}: {', '.join(bad)} {'is' if len(bad) == 1 else 'are'} "
                         f"not supported with family={family!r} yet.")


def glm_enet_path(family, X, y, *, l1_ratio, eps, n_alphas, alphas, fit_intercept,
                  sample_weight, penalty_factor, standardize, positive, precompute, tol,
                  max_iter, coef_init, return_n_iter, dfmax, pmax, exclude, lower_limits,
                  upper_limits, sparse_output):
    """:func:`~sklearn_normpen.enet_path` for ``family`` in binomial / poisson / mgaussian /
    multinomial (the arguments are ``enet_path``'s; ``precompute`` does not apply to GLMs,
    whose inner solves run in residual mode; ``positive`` and box limits: binomial and
    Poisson, as the Gaussian path's)."""
    from .elastic_net import (_alpha_max, _check_l1_ratios, _check_precompute,
                              _check_scalar_tol, _make_penalty)
    family = check_family(family, ENET_FAMILIES, "enet_path")
    if family == "multinomial":
        from ._multinomial import multinomial_enet_path
        # (no coef_init: the multinomial's proximal Newton stalls from a start far from
        # the optimum and has no retry from the null fit, see start_retry)
        _reject("enet_path", family, positive=positive,
                lower_limits=lower_limits is not None, upper_limits=upper_limits is not None,
                coef_init=coef_init is not None, exclude=exclude is not None,
                sparse_output=sparse_output)
        _check_precompute(precompute)
        return multinomial_enet_path(
            X, y, l1_ratio=l1_ratio, eps=eps, n_alphas=n_alphas, alphas=alphas,
            fit_intercept=fit_intercept, sample_weight=sample_weight,
            penalty_factor=penalty_factor, standardize=standardize, tol=tol,
            max_iter=max_iter, return_n_iter=return_n_iter, dfmax=dfmax, pmax=pmax)
    if family == "mgaussian":
        from .multitask import multitask_enet_path
        _reject("enet_path", family, positive=positive,
                lower_limits=lower_limits is not None, upper_limits=upper_limits is not None,
                sparse_output=sparse_output)
        return multitask_enet_path(
            X, y, l1_ratio=l1_ratio, eps=eps, n_alphas=n_alphas, alphas=alphas,
            fit_intercept=fit_intercept, sample_weight=sample_weight,
            penalty_factor=penalty_factor, standardize=standardize, tol=tol,
            max_iter=max_iter, return_n_iter=return_n_iter, dfmax=dfmax, pmax=pmax,
            exclude=exclude, coef_init=coef_init)
    from ._solvers.prox_newton import GLMProblem, glm_mode
    X, y, sw = _glm_input(family, X, y, sample_weight, "enet_path")
    p = X.shape[1]
    coef_init = validate_coef_init(coef_init, p, X.dtype)
    grid_arg = alphas if alphas is not None else n_alphas
    (rho,) = _check_l1_ratios(l1_ratio, grid_arg)
    _check_scalar_tol(tol, max_iter)
    _check_precompute(precompute)
    pf = validate_penalty_factor(penalty_factor, p)
    excl = _check_exclude(exclude, p)
    limits = _check_limits(lower_limits, upper_limits, p)
    pb = GLMProblem(Design(X, y, sw, fit_intercept), glm_mode(X), _DATAFITS[family])
    # box limits and positive on the user's scale, as the Gaussian path (glmnet's
    # lower.limits / upper.limits): the penalty carries them, the certificate its box dual
    pen = _make_penalty(rho, pf, standardize, bool(positive), pb, excl, limits)
    grid = make_grid(grid_arg, lambda: _alpha_max(pb, pen, tol, max_iter), eps)
    w0 = None
    if coef_init is not None:  # a feasible start: excluded at 0, inside the box
        w0 = np.clip(np.where(pen.excluded, 0.0, coef_init), pen.lower, pen.upper)
    res = compute_path(pb, pen, grid, tol=tol, max_iter=max_iter, coef_init=w0,
                       dfmax=dfmax, pmax=pmax, sparse_output=sparse_output)
    warn_unconverged([res], what="Proximal Newton")
    warn_stopped(res, len(grid), "enet_path")
    out = (res.alphas, res.coefs, res.gaps)
    return out + (res.n_iters,) if return_n_iter else out


def _standardized(X, sw, fit_intercept, return_design=False):
    """``(Xs, 1/σ, shift)``: a copy of X with every column divided by its weighted standard
    deviation (constant columns: scale 0, coefficient held at 0), sparse kept sparse
    (``return_design``: the :class:`Design` of X itself too, fourth).

    Offset columns (``|x̄| ≫ σ``) are first centred in float64, as the Design's layout
    stores them: scaling a float32 column of mean 1e5 and unit spread as it is rounds
    every entry by ~1e-2 of its spread, another data set, so a fit certified on it sat
    7e-6 of the null deviance above the user's optimum at ``tol=1e-7``. ``shift`` (float64)
    is what was subtracted from each scaled column: ``Xs = (X - 1 cᵀ) diag(1/σ)``,
    ``shift = c/σ``, so the user's intercept is the solver's minus ``shiftᵀw``. ``1/σ`` is
    returned as the rounded value the columns were multiplied by."""
    d = Design(X, np.zeros(X.shape[0], dtype=X.dtype), sw, fit_intercept)
    inv = inverse_std(d.x_std, d.constant)
    inv = inv.astype(X.dtype).astype(np.float64)
    shift = d.layout_shift * inv
    Xk = d.Xk  # offset columns centred (float64, then cast); X itself when none
    if sp.issparse(Xk):
        Xs = sp.csc_matrix(Xk @ sp.diags(inv.astype(X.dtype))).sorted_indices()
    else:
        Xs = np.asfortranarray(Xk * inv.astype(X.dtype))
    return (Xs, inv, shift, d) if return_design else (Xs, inv, shift)


def glm_group_lasso_path(family, X, y, *, groups, l1_ratio, group_weights, alphas,
                         n_alphas, eps, sample_weight, fit_intercept, standardize, tol,
                         max_iter, coef_init, return_n_iter, dfmax, pmax, exclude,
                         lower_limits, upper_limits, sparse_output):
    """:func:`~sklearn_normpen.group_lasso_path` for ``family`` in binomial / poisson.

    ``standardize=True`` fits on the columns divided by their weighted standard
    deviations and maps back (the GLM's block solver has no built-in scaling): the same
    objective as the Gaussian path's."""
    from ._groups import parse_groups, resolve_group_weights
    from ._solvers.prox_newton import GroupInner
    from .group_classification import _glm_problem, _group_penalty, check_glm_groups
    from .group_lasso import _ActiveGroups, _check_box, _check_l1_ratio, _clip_coef
    family = check_family(family, GROUP_FAMILIES, "group_lasso_path")
    X, y, sw = _glm_input(family, X, y, sample_weight, "group_lasso_path")
    p = X.shape[1]
    coef_init = validate_coef_init(coef_init, p, X.dtype)
    _check_l1_ratio(l1_ratio)
    limits, excl = _check_box(lower_limits, upper_limits, exclude, p)
    structure = parse_groups(groups, p)
    weights = resolve_group_weights(group_weights, structure)
    arrays = check_glm_groups(structure, weights, p, allow_unpenalised=True)
    # (the coefficients come back on the user's scale: the problem's to_original)
    pb = _glm_problem(X, y, sw, fit_intercept, _DATAFITS[family],
                      GroupInner(structure, weights), standardize)
    pen = _group_penalty(arrays, l1_ratio, limits, excl, pb)

    def alpha_max():
        _, z = pb.null_fit(pen, 1e-3 * tol * pb.null_deviance, max_iter)
        return pen.alpha_max(z)

    grid = make_grid(n_alphas if alphas is None else alphas, alpha_max, eps)
    w0 = None
    if coef_init is not None:  # the solver's coefficient is σ_j w_j, inside pen's box
        # (held features, excluded or constant under standardize, have the box [0, 0])
        inv = np.ones(p) if pb.inv_scale is None else pb.inv_scale
        w0 = np.clip(coef_init * column_scale(inv), pen.lower, pen.upper)
    res = compute_path(pb, pen, grid, tol=tol, max_iter=max_iter, coef_init=w0,
                       dfmax=dfmax, pmax=pmax, active=_ActiveGroups(structure.groups),
                       sparse_output=sparse_output)
    warn_unconverged([res], what="Proximal Newton")
    warn_stopped(res, len(grid), "group_lasso_path")
    coefs = _clip_coef(res.coefs, limits, None if exclude is None else pen.excluded)
    out = (res.alphas, coefs, res.gaps)
    return out + (res.n_iters,) if return_n_iter else out
