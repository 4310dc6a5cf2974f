"""Block coordinate descent for the (sparse-)group lasso: one fit and warm-started paths.

Objective (``s`` sample weights, normalised to sum to ``n``; ``c_g`` group weights)::

    1/(2n) Σ_i s_i (y_i - x_iᵀw - b)² + alpha (rho ||w||_1 + (1 - rho) Σ_g c_g ||w_g||_2)

The intercept is removed by weighted centring. Each solve works on a *working set* of groups
(those already non-zero, the unpenalised ones, and the groups the sequential strong rule
keeps; on wide dense data at most a third of the support or ``p0`` of those, the nearest
their ball); the compiled kernel sweeps it until the working-set duality gap is below ``tol``.
Then the gradient is computed over *all* features: any group violating its KKT condition
joins the working set and the kernel resumes. A point is accepted only when the duality gap
of the full problem is <= ``tol * ||y - ȳ||²_s / (2n)`` (scikit-learn's meaning of ``tol``),
so screening never drops a group that belongs in the solution.

Certificate: with ``z = X_cᵀ S r / n`` and ``t`` the largest scaling in [0, 1] making
``t r / n`` dual feasible (:meth:`SparseGroupLasso.dual_scale`), the dual value is
``D = (2 t <r, y>_s - t² ||r||²_s) / (2n)`` and ``gap = P - D >= P - P*``.

Bounded certificates (dense float64, no box, every group penalised): zero groups whose
gradient the last full ones bound inside their ball ``a (1 - rho) c_g`` enter the
certificate with ``z_g = 0``, the same gap and KKT violation (:mod:`.gradient_bound`).
"""
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from .._design import (UnpenalisedBlocks, _f64_blocks, column_scale, inverse_std,
                       rounded_coefficients, xt_dot64)
from ..penalties import SparseGroupLasso

from .._certificate import (CertStats, certificate, per_mask, project,
                            rounded_certificate, rounding_change)
from .._kernels import _bcd_group as K
from .._validation import call_kernel
from .coordinate_descent import (POLISH_EPOCHS, POLISH_MAX, POLISH_MIN_EPOCHS,
                                 REFINE_STEPS, refinable,
                                 stop_on_certificate, strong_candidates, top_k)
from .gradient_bound import GradientReferences
from .group_newton import (Pause, active_features, active_set_newton, newton_step,
                           supported)


class GroupSpectra:
    """Each packed group Gram's spectrum for the kernels, computed group by group when first
    needed (:func:`~sklearn_normpen._kernels._bcd_group.group_spectra`; the residual
    kernel ``bcd`` on a group's first visit): ``L`` the step constants (largest eigenvalue
    with a tiny relative slack that keeps ``1/L`` a valid step despite rounding; 0, a group
    the kernels skip, where it is not positive or the group is ``dead``: every column
    constant by the Design's rule, whose centred Gram is rounding; the test is per group: a
    threshold relative to the largest group froze a penalised group of unit scale beside an
    unpenalised one of scale 1e6, at a gap of 0.2 of the null deviance), and for the exact
    rho = 0 solves ``Q_g = V_gᵀ diag(E_g) V_g`` (``V``: eigenvectors as rows, laid out as
    ``Q``; ``E`` clipped at 0, laid out as ``gidx``). ``ready`` holds each group's level
    (1: ``L``; 2: also ``V``, ``E``; 3: ``L`` only, LAPACK having failed: FISTA solves).
    A path to 0.1 alpha_max over 1000 groups of 5 visits ~40 of them; decomposing all
    1000 up front (batched ``eigh``) took ~10% of it.
    """

    def __init__(self, Q, qoff, gptr, gidx, dtype, dead=None):
        self.Q, self.qoff, self.gptr, self.gidx = Q, qoff, gptr, gidx
        self.dtype = np.dtype(dtype)
        self.L = np.zeros(len(gptr) - 1, dtype=self.dtype)
        self.ready = np.zeros(len(gptr) - 1, dtype=np.intc)
        if dead is not None:
            self.ready[dead] = 2  # (L = 0: never stepped, never decomposed)
        self.V = self.E = None
        self._level = 0  # every group is at least at this level
        self._none = np.zeros(1, dtype=self.dtype)

    def vectors(self):
        """``(V, E)`` as the kernels take them (allocated on first use, filled lazily)."""
        if self.V is None:
            self.V = np.zeros(self.Q.size, dtype=self.dtype)
            self.E = np.zeros(int(self.gptr[-1]), dtype=self.dtype)
        return self.V, self.E

    def fill(self, vectors=False):
        """Every group at the level ``vectors`` asks for (2, else 1); returns ``L``."""
        need = 2 if vectors else 1
        if self._level < need:
            V, E = self.vectors() if vectors else (self._none, self._none)
            call_kernel(K.group_spectra, self.gptr, self.gidx, self.Q, self.qoff, V, E,
                        int(vectors), self.L, self.ready)
            self._level = need
        return self.L


def dead_groups(constant, gptr, gidx):
    """Groups whose every column is constant (``constant``: the Design's mask)."""
    if gidx.size == 0:
        return np.zeros(len(gptr) - 1, dtype=bool)
    return np.logical_and.reduceat(np.asarray(constant, bool)[gidx], gptr[:-1])


class GroupProblem:
    """Centred (and optionally standardised) data, groups and Lipschitz constants, ready for
    the kernels. Built once per dataset; solves at any ``alpha`` reuse it.

    Dense ``X`` is copied once into ``sqrt(s) (X - x̄) / σ`` (Fortran order); sparse ``X``
    stays sparse in the Design's layout (scaled by ``1/σ`` if standardising), centred
    implicitly.

    Each block visit minimises the group's exact quadratic model in its k×k Gram space
    (``max_inner`` FISTA iterations at most, stopping when the last change is below
    ``inner_eps`` times the block's total change): collinear groups then cost O(k²) inner
    iterations instead of O(n k) epochs. With ``rho = 0`` the block minimiser is exact
    (secular equation in the eigenbasis of the group Gram).
    """

    max_inner = 100
    inner_eps = 1e-3
    #: depth of the kernel's Anderson extrapolation (every ``anderson_k + 1`` rounds; 0:
    #: none)
    anderson_k = 5

    def __init__(self, design, structure, group_weights, standardize=False):
        d = design
        self.design = d
        self._weights_of = d.sw64  # the weights the prepared data hold (see reweighted)
        self.dtype = d.dtype
        self.n, self.p = d.n, d.p
        self.sparse = d.sparse
        self.fit_intercept = d.fit_intercept
        # weights rescaled to sum to n: 1/(2 Σs) Σ s r² = 1/(2n) Σ s' r²
        sw = None if d.sw is None else (d.sw64 * (self.n / d.N)).astype(self.dtype)
        X, X_off = d.X, d.x_mean
        inv = inverse_std(d.x_std, d.constant) if standardize else np.ones(self.p)
        self.X_off, self.y_off, self.inv_scale = X_off, d.y_mean, inv
        # the kernels' data are scaled by 1/σ rounded to their dtype; the certificate
        # reads the user's columns with the exact inv_scale
        inv = inv.astype(self.dtype).astype(np.float64)
        yc = d.yc
        self.root = None
        if self.sparse:
            Xk = d.Xk  # (offset columns centred: implicit centring would cancel on them)
            Xs = Xk if not standardize else sp.csc_matrix(Xk @ sp.diags(inv).astype(self.dtype))
            if not Xs.has_sorted_indices:
                Xs = Xs.sorted_indices()
            self.data = np.ascontiguousarray(Xs.data, dtype=self.dtype)
            self.indices = np.ascontiguousarray(Xs.indices, dtype=np.int32)
            self.indptr = np.ascontiguousarray(Xs.indptr, dtype=np.int32)
            self.Xs = Xs
            self._xmean_64 = np.asarray(d.xk_mean, np.float64) * inv
            self.xmean = np.ascontiguousarray(self._xmean_64, dtype=self.dtype)
            self.sw = (np.ones(self.n, dtype=self.dtype) if sw is None
                       else np.ascontiguousarray(sw, dtype=self.dtype))
            self.y = np.ascontiguousarray(yc)
        elif sw is None and not standardize:
            # No copy: the kernel centres implicitly (the Design centred offset columns).
            self.Xd = d.Xk
            self.xmean = np.ascontiguousarray(d.xk_mean, dtype=self.dtype)
            self.y = np.ascontiguousarray(yc)
            self.sw = None
        else:
            # Weights or scaling: one centred (float64), sqrt(s)-scaled copy; unit weights.
            Xd = np.empty((self.n, self.p), dtype=self.dtype, order="F")
            root = None if sw is None else np.sqrt(sw.astype(np.float64))
            for a, b, B in _f64_blocks(X, X_off):
                B *= inv[a:b]
                Xd[:, a:b] = B if root is None else B * root[:, None]
            self.Xd = Xd
            self.xmean = np.zeros(self.p, dtype=self.dtype)
            self.root = root
            self.y = np.ascontiguousarray(yc if root is None else yc * root, dtype=self.dtype)
            self.sw = None
        self.y_sq = float(self._wdot(self.y, self.y))
        self.null_deviance = self.y_sq / (2 * self.n)
        self.N = self.n
        self.n_features = self.p
        self.structure = structure
        gptr, gidx, c = structure.kernel_arrays(group_weights)
        self.gptr, self.gidx = gptr, gidx
        # the kernels' group weights in their dtype; the certificate's penalty has the
        # exact ones (fl32(sqrt 3) put a float32 primal 8e-9 of the null deviance off)
        self.c, self._c64 = c.astype(self.dtype), np.asarray(c, np.float64)
        self.sizes = np.diff(gptr)
        self._grams()
        kmax = max(int(self.sizes.max()) if self.sizes.size else 1, 1)
        self._buf = np.zeros(9 * kmax, dtype=self.dtype)  # block-model scratch, limits
        self._wold = np.zeros(kmax, dtype=self.dtype)
        self._unpen_cache = {}
        self._unpen_blocks = UnpenalisedBlocks()
        self._XsT = None  # the CSR transpose of a sparse X, made on first use
        # float64 kernels keep an exact enough residual; otherwise recompute it
        self._fresh = self.dtype != np.float64
        self._pause = POLISH_EPOCHS  # epochs before a Newton pause (adapted per point)
        self._pred = None  # the path's predicted change for the next solve (predict_next)
        self._no_pred = np.zeros(0, dtype=self.dtype)  # (one object: no re-check per call)
        # the last full certificate gradients: they bound the later ones (emptied when the
        # data change)
        self._zrefs = GradientReferences()

    def penalty(self, rho, limits=None, exclude=None):
        """The :class:`SparseGroupLasso` of these groups at ``l1_ratio = rho``; ``limits``
        ``(lower, upper)`` per feature on the user's scale (standardisation rescales them:
        the solver's coefficient is ``coef·σ_j``), ``exclude`` a mask held at zero."""
        lower = upper = None
        if limits is not None and limits[0] is not None:
            sigma = column_scale(self.inv_scale, held=1.0)
            lower, upper = limits[0] * sigma, limits[1] * sigma
        return SparseGroupLasso(self.gptr, self.gidx, self._c64, rho,
                                lower=lower, upper=upper, excluded=exclude)

    def _kernel_box(self, pen):
        """``(has_lim, lower, upper, glim)`` for the kernel in the problem's dtype; limits
        rounded towards 0 so the iterates stay inside the float64 box (cached)."""
        key = (id(pen), self.dtype)
        cached = getattr(pen, "_kbox", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        if not getattr(pen, "has_box", False):
            one = np.zeros(1, dtype=self.dtype)
            out = (0, one, one, np.zeros(1, dtype=np.intc))
        else:
            lims = []
            for v in (pen.lower, pen.upper):
                r = v.astype(self.dtype)
                away = np.abs(r.astype(np.float64)) > np.abs(v)
                lims.append(np.where(away, np.nextafter(r, self.dtype.type(0)), r).astype(
                    self.dtype))
            out = (1, lims[0], lims[1], np.ascontiguousarray(pen.limited, dtype=np.intc))
        pen._kbox = (key, out)
        return out

    # -- linear algebra on the prepared data --------------------------------------------
    def _wdot(self, a, b):
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        return float(a @ b) if self.sw is None else float((self.sw * a) @ b)

    @property
    def L(self):
        """Largest eigenvalue of each group's (centred, weighted) Gram / n, with slack, for
        every group (:class:`GroupSpectra`; the kernel fills in the groups it visits, this
        the rest)."""
        return self._spec.fill()

    def _grams(self):
        """The group Grams (centred, weighted, / n), packed as ``Q``: the kernels solve each
        block model in this Gram space (see _bcd_group.pyx). Resets what derives from them
        (Lipschitz constants, eigendecompositions)."""
        out = np.zeros(int((self.sizes.astype(np.int64) ** 2).sum()), dtype=self.dtype)
        if self.sparse:
            # in float64 (then cast), about the float64 means: implicit centring subtracts
            # n x̄ⱼ x̄ₖ from Σ s xⱼ xₖ, which float32 data or means (off by ~1e-7·|x̄|, an
            # error the subtraction multiplies by |x̄|) cannot resolve (an indefinite
            # "Gram", NaN block solves); k² numbers per group, one pass over its entries
            out64 = np.zeros(out.size)
            call_kernel(K.group_grams_sparse, self.data.astype(np.float64, copy=False),
                        self.indices, self.indptr, self.n,
                        self.sw.astype(np.float64, copy=False), self._xmean_64,
                        self.gptr, self.gidx, out64)
            out = out64.astype(self.dtype)
        else:
            call_kernel(K.group_grams_dense, self.Xd, self.xmean, self.gptr, self.gidx, out)
        offsets = np.concatenate([[0], np.cumsum(self.sizes.astype(np.int64) ** 2)])
        self.Q, self.qoff, self._offsets = out, np.ascontiguousarray(offsets[:-1],
                                                                     dtype=np.intp), offsets
        self._spec = GroupSpectra(self.Q, self.qoff, self.gptr, self.gidx, self.dtype,
                                  self._dead())

    def _dead(self):
        """The groups of constant columns only (the weights' Design decides)."""
        return dead_groups(self.design.constant, self.gptr, self.gidx)

    def residual(self, w):
        """Dense: ``y - X w``; sparse: ``y - X w`` with ``X`` uncentred (see the kernel)."""
        nz = np.flatnonzero(w)  # only the non-zero columns (often none: a cold start)
        if nz.size == 0:
            return self.y.copy()
        Xnz = self.Xs[:, nz] if self.sparse else self.Xd[:, nz]
        return np.ascontiguousarray(self.y - Xnz @ w[nz], dtype=self.dtype)

    def _residual64(self, w):
        """The centred residual from scratch in float64 (only non-zero columns read)."""
        w = np.asarray(w, dtype=np.float64)
        nz = np.flatnonzero(w)
        r = np.asarray(self.y, dtype=np.float64).copy()
        if nz.size:
            Xnz = self.Xs[:, nz] if self.sparse else self.Xd[:, nz]
            r -= (Xnz.astype(np.float64) @ w[nz]) if self.sparse else np.asarray(
                Xnz, dtype=np.float64) @ w[nz]
            r += float(np.asarray(self.xmean, np.float64)[nz] @ w[nz])
        return r

    def _gradient64(self, r):
        """``X_cᵀ S r / n`` in float64 for a float64 residual (the certificate's gradient)."""
        sr = r if self.sw is None else np.asarray(self.sw, np.float64) * r
        total = float(sr.sum())
        xm = np.asarray(self.xmean, dtype=np.float64)
        if self.sparse:
            if self._XsT is None:  # the CSR view, once (building it checks O(nnz))
                self._XsT = self.Xs.T
            g = np.asarray(self._XsT @ sr, dtype=np.float64).ravel()
        elif self.dtype == np.float64:
            g = xt_dot64(self.Xd, sr)
        else:
            g = np.empty(self.p)
            for a, b, B in _f64_blocks(self.Xd):
                g[a:b] = B.T @ sr
        return (g - xm * total) / self.n

    def centred_residual(self, r, w):
        """``r`` is stored without the centring offset ``x̄ᵀw`` (see the kernels)."""
        return np.asarray(r, dtype=np.float64) + float(self.xmean @ w)

    def gradient(self, r):
        """``z = X_cᵀ S r_c / n`` over every feature (float64; ``r`` as stored: the centring
        offset cancels)."""
        return self._gradient64(np.asarray(r, dtype=np.float64))

    # -- certificate inputs -----------------------------------------------------------------
    def cert_stats(self, w, penalty, alpha=None):
        """:class:`CertStats` at ``w`` (solver parametrisation, package scale); with
        ``alpha``, the gradient of the groups bounded inside their ball is left at 0 where
        :meth:`_bounded_gradient` can (the same gap and KKT violation)."""
        span, W, Wk = self._unpen(penalty.unpenalized) or (None, None, None)
        if self._fresh:  # float32: the user's own data, from scratch in float64
            r, z, r2, ry, r_sum = self._exact_stats(w)
            self._z = z
            return CertStats(r2, ry, r_sum if self.fit_intercept else 0.0, z, span,
                             unpen_z=None if W is None else W.T @ r)
        rt = self.centred_residual(self.r, w)  # float64: the kernel's residual is exact enough
        if alpha is not None and self._boundable(penalty):
            z = self._bounded_gradient(rt, w, penalty, alpha)
        else:
            z = self._gradient64(rt)
        self._z = z
        n = self.n
        if not self.fit_intercept:
            r_mean = 0.0
        elif self.root is not None:
            r_mean = float(self.root @ rt) / n
        else:
            r_mean = self._wdot(rt, np.ones_like(rt)) / n
        return CertStats(self._wdot(rt, rt) / n, self._wdot(rt, self.y) / n, r_mean, z,
                         span, unpen_z=None if Wk is None else Wk.T @ rt)

    def _boundable(self, pen):
        """Whether the certificate may bound groups (module docstring): dense float64 data
        in the kernel's unit-weight layout, no box limits or exclusions (their conjugate
        reads every side), every group penalised (the projection off unpenalised features
        needs their exact gradient, and every feature in a group), and a group part in the
        penalty (``rho < 1``: the lasso's balls have radius 0)."""
        return (not self.sparse and not self._fresh and self.sw is None and pen.rho < 1
                and not getattr(pen, "has_box", False) and bool(pen.penalised.all())
                and self.gidx.size == self.p)

    def _bounded_gradient(self, rt, w, pen, alpha):
        """``z`` at the centred residual ``rt`` with the zero groups whose bound
        (:class:`GradientReferences`) is inside ``a (1 - rho) c_g`` left at 0; a full
        product, which becomes the newest reference, when more than half the features
        would be computed."""
        lip = np.sqrt(np.maximum(np.asarray(self.L, np.float64), 0.0) / self.n)
        skip = self._zrefs.skipped(
            rt, lambda zc: pen._soft_norm(zc, alpha * pen.rho), lip,
            alpha * (1 - pen.rho) * pen.weights, pen.group_norms(w) == 0)
        if skip is not None:
            cols = np.ascontiguousarray(self.gidx[np.repeat(~skip, self.sizes)],
                                        dtype=np.intc)
            if 2 * cols.size <= self.p:
                z = np.zeros(self.p)
                status = call_kernel(K.gradient_dense_cols, self.Xd, self.xmean,
                                     np.ascontiguousarray(rt, dtype=self.dtype), cols, z)
                if status != 0:  # pragma: no cover - gidx is checked by the structure
                    raise RuntimeError(f"gradient_dense_cols failed with status {status}.")
                return z
        z = self._gradient64(rt)
        self._zrefs.push(rt, z, pen.group_of, self.sizes.size)
        return z

    def _exact_stats(self, w):
        """float32 data: the certificate's sums on the user's own columns, target and
        weights in float64 (:meth:`Design.centred_product64`, :meth:`Design.gradient64`:
        the exact layout), scaled by the kernels' ``1/σ``: ``(r, z, ||r||²_S/W, <r, yc>_S/W,
        Σ s r / W)`` with ``r = yc - Xc (w/σ)`` and ``z = (Xc/σ)ᵀ S r / W``. The prepared
        float32 copy (centred, scaled, ``sqrt(s)``-weighted) and target are rounded to
        6e-8 of their entries, another data set: a term first-order in the coefficients,
        which nearly collinear columns multiply (a loose gap of 1e-6..1e-4 of the null
        deviance at solutions 1e-12 from the optimum)."""
        d = self.design
        inv = np.asarray(self.inv_scale, np.float64)
        r = d.yc64 - d.centred_product64(inv * np.asarray(w, np.float64))
        sr = r if d.sw64 is None else d.sw64 * r
        z = inv * d.gradient64(r) / d.N
        return r, z, float(sr @ r) / d.N, float(sr @ d.yc64) / d.N, float(sr.sum()) / d.N

    @per_mask
    def _unpen(self, mask):
        """``((U, M, a), W, Wk)``: the unpenalised features' span for the certificate's
        projection (:func:`~sklearn_normpen._certificate.project`), cached: from the user's
        columns (:meth:`Design.unpenalised_span64`), ``M`` in the solver's scaled
        parametrisation (``diag(1/σ) Xcᵀ Ŵ``, exact ``1/σ``); its basis ``W = Ŵ``, which
        gives the residual's coordinates ``Ŵᵀ r`` from the residual itself (``a - Mᵀ w``
        cancels when ``Mᵀ w`` is far larger: offset unpenalised columns without
        intercept), and ``Wk`` the same for the kernel's residual (dense weighted layout:
        ``sqrt(s)·r``, so ``Ŵ / sqrt(s)``; else ``Ŵ``)."""
        U = np.flatnonzero(mask)
        if U.size == 0:
            return None
        key = U.tobytes()
        if key not in self._unpen_cache:
            M, a, W = self.design.unpenalised_span64(U, basis=True)
            M *= np.asarray(self.inv_scale, np.float64)[:, None]
            Wk = W
            if self.root is not None:  # (rows of weight 0: 0 in Ŵ)
                pos = self.root > 0
                Wk = np.zeros_like(W)
                Wk[pos] = W[pos] / self.root[pos, None]
            self._unpen_cache[key] = ((U, M, a), W, Wk)
        return self._unpen_cache[key]

    # -- the unpenalised block ----------------------------------------------------------
    def _unpen_block(self, pen):
        """``(U, UnpenalisedStep)`` of ``pen``'s unpenalised features ``U`` (on the kernel's
        data in float64; :class:`~sklearn_normpen._design.UnpenalisedBlocks`), or None:
        none, too many, or well-conditioned (the kernel's visits resolve them)."""
        U = np.flatnonzero(pen.unpenalized)
        step = self._unpen_blocks.get(
            U, self.n, self.data.size if self.sparse else self.n * self.p,
            lambda: (self._columns64(U),
                     None if self.sw is None else np.sqrt(np.asarray(self.sw, np.float64))))
        return None if step is None else (U, step)

    def _unpen_step(self, w, block):
        """The exact joint step on the unpenalised features (``block``, from
        :meth:`_unpen_block`), kept when it lowers the objective at all (a threshold of
        1% of the target left the sweeps crawling on the block again: "illposed" seeds 29
        and 46): ``w`` and the stored residual updated. The kernel visits an unpenalised
        group by FISTA in its Gram space at step ``1/L_g``, which crawls when the group is
        ill-conditioned: columns 1e6 apart in scale and nearly collinear left a gap of 0.2
        of the null deviance after 2300 epochs, and a Poisson model's Newton steps never
        reached their targets. Where the step runs, the kernel leaves those groups to it
        (:meth:`_kernel_L`). Returns whether ``w`` changed."""
        if block is None:
            return False
        U, step = block
        rt = self._residual64(w) if self._fresh else self.centred_residual(self.r, w)
        new = step.step(rt, w[U], self.dtype)
        if new is None:
            return False
        w[U] = new
        self.r = self.residual(w)
        self._z = None
        return True

    # -- the kernel -----------------------------------------------------------------------
    def _sweep(self, w, ws, alpha, pen, max_epochs, tol_abs, gap_freq=10, anderson=True,
               pred=None):
        if ws.size == 0 or max_epochs <= 0:
            return 0, 0.0
        rho = pen.rho
        exact = int(rho == 0)
        spec = self._spec
        V, E = spec.vectors() if exact else (spec._none, spec._none)
        L, ready = self._kernel_L(pen, exact)
        args = (self.gptr, self.gidx, self.c, L, self.Q, self.qoff, V, E, exact, ws,
                self.dtype.type(alpha), self.dtype.type(rho), int(max_epochs),
                self.dtype.type(tol_abs), int(gap_freq), self.max_inner,
                self.dtype.type(self.inner_eps), self._buf, self._wold,
                *self._kernel_box(pen), self.anderson_k if anderson else 0,
                self._no_pred if pred is None else pred, ready)
        return call_kernel(K.bcd, *self._kernel_x(), self.xmean, self.y, w, self.r, *args)

    def _kernel_L(self, pen, exact):
        """The kernel's step constants and spectrum levels ``(L, ready)``: the lazy
        :class:`GroupSpectra` arrays (the kernel decomposes the groups it visits), or, where
        the exact step (:meth:`_unpen_block`) minimises the unpenalised groups, every
        group's constant filled (to the level ``exact`` solves need: the kernel then writes
        none, and reads which groups have vectors) with 0 for the unpenalised ones (a block
        the kernel skips, yet keeps in its working set, whose centring reads every non-zero
        group): the kernel's inexact visits between two steps held the other groups at a
        point that was not optimal ("illposed" seeds 148 and 295 stopped there)."""
        spec = self._spec
        if self._unpen_block(pen) is None:
            return spec.L, spec.ready
        L = spec.fill(exact)
        key = (pen.penalised.tobytes(), spec._level)
        cached = getattr(self, "_L_free", None)
        if cached is None or cached[0] is not L or cached[1] != key:
            held = L.copy()
            held[~pen.penalised] = 0
            self._L_free = cached = (L, key, held)
        return cached[2], spec.ready

    def _kernel_x(self):
        """The kernel's ``(data, indices, indptr, sw)``: CSC with weights, or the dense X
        flattened in Fortran order (a view) with the other three empty; the same objects
        from call to call, so the kernel checks are not repeated."""
        if self.sparse:
            return self.data, self.indices, self.indptr, self.sw
        flat = getattr(self, "_flat", None)
        if flat is None or flat[0] is not self.Xd:
            empty = np.zeros(0, dtype=np.intc)
            self._flat = flat = (self.Xd, (self.Xd.ravel(order="F"), empty, empty,
                                           np.zeros(0, dtype=self.dtype)))
        return flat[1]

    def start(self, w):
        """Set the state (residual) for ``w``; returns ``w`` as the array solves update."""
        w = np.array(w, dtype=self.dtype, order="C")
        self.r = self.residual(w)
        self._z = None
        return w

    def reweighted(self, w, R):
        """Re-read a :class:`~sklearn_normpen._design.ReweightedDesign` after its
        ``reweight`` (a GLM's Newton steps reuse one problem, as
        :meth:`EnetProblem.reweighted`) and set the state to ``w`` with its float64
        residual ``R = yc - Xc w`` computed by the caller. What the weights change is
        redone in place: the weights, means and target, the ``sqrt(s)``-scaled centred
        copy (dense), the group Grams and their Lipschitz constants (eigen data: on first
        use); the groups, buffers and the sparse layout stay. Returns ``w`` as the
        contiguous array the solves update in place."""
        d = self.design
        if self._weights_of is not d.sw64:  # (not on the step the problem was built on)
            if d.sw64 is None or not (self.sparse or self.root is not None):
                raise ValueError("reweighted needs weights (a GLM's curvature).")
            self._weights_of = d.sw64
            sw = d.sw64 * (self.n / d.N)
            self.X_off, self.y_off = d.x_mean, d.y_mean
            if self.sparse:
                self.sw = np.ascontiguousarray(sw, dtype=self.dtype)
                self._xmean_64 = np.asarray(d.xk_mean, np.float64)
                self.xmean = np.ascontiguousarray(self._xmean_64, dtype=self.dtype)
                self.y = np.ascontiguousarray(d.yc)
            else:
                root = self.root = np.sqrt(sw)
                for a, b, B in _f64_blocks(d.X, d.x_mean):
                    self.Xd[:, a:b] = B * root[:, None]
                self.y = np.ascontiguousarray(d.yc64 * root, dtype=self.dtype)
            self.y_sq = float(self._wdot(self.y, self.y))
            self.null_deviance = self.y_sq / (2 * self.n)
            self._grams()
            self._zrefs.clear()
            self._unpen_cache.clear()
            self._unpen_blocks.clear()
            self.__dict__.pop("_per_mask", None)
        R = np.asarray(R, dtype=np.float64)
        w = np.array(w, dtype=self.dtype, order="C")
        # the kernels' residual: sqrt(s)-scaled (dense copy), or without the centring
        # offset x̄ᵀw (sparse, implicit centring)
        self.r = np.ascontiguousarray(
            R - float(np.asarray(self.xmean, np.float64) @ np.asarray(w, np.float64))
            if self.sparse else R * self.root, dtype=self.dtype)
        self._z = None
        return w

    def null_fit(self, penalty, tol_abs, max_iter=1000):
        """Least squares on the unpenalised features alone (penalised groups at 0); returns
        ``(w, z)``, ``z`` the gradient there projected off the unpenalised span."""
        w = self.start(np.zeros(self.p))
        unpen = np.flatnonzero(~penalty.penalised).astype(np.int32)
        block = self._unpen_block(penalty)
        if block is not None:  # (the exact step is the whole fit, to rounding)
            self._unpen_step(w, block)
        elif unpen.size:
            self._sweep(w, unpen, 1.0, penalty, max(max_iter, 1000), tol_abs)
        z = project(self.cert_stats(w, penalty), w).g
        return w, z

    _top = staticmethod(top_k)

    def predict_next(self, d, penalty):
        """Take the path's predicted change ``d`` of the coefficients for the next solve
        (:func:`~sklearn_normpen._path.compute_path`; the kernel applies it before the
        first epoch, see ``bcd``'s ``pred``). Returns whether it was taken: not with box
        limits (the kernel keeps no step there). Group-lasso paths curve, but the line
        through the last two points still starts each point nearer its solution: the wide
        path (500 x 10000, groups of 5) ran 846 -> 570 epochs, and 1097 -> 745 at
        ``l1_ratio = 0.5``."""
        if getattr(penalty, "has_box", False):
            return False
        self._pred = np.ascontiguousarray(d, dtype=self.dtype)
        return True

    def solve(self, w, penalty, alpha, tol_abs, max_iter=1000, alpha_prev=None, p0=10):
        """Solve at ``alpha`` from ``w`` (updated in place, with the stored residual) until
        the certificate is at most ``tol_abs``. Working set: the active and unpenalised
        groups plus the sequential strong rule at ``alpha_prev`` (wide dense: at most
        ``max(p0, |support| / 3)`` of them, the nearest their ball; cold start: the ``p0``
        worst violators); every certificate's full gradient adds the groups that violate
        their KKT condition. Returns ``(Certificate, epochs)``."""
        pen, rho = penalty, penalty.rho
        pred, self._pred = self._pred, None  # (predict_next: the first sweep applies it)
        z = self._z if self._z is not None else self.gradient(self.r)
        active = pen.group_norms(w) > 0
        slack = pen.violation_slack(alpha)  # a rounding-level violation is none
        if alpha_prev is None:
            score = pen.violation(z, alpha)
            strong = self._top(score, ~active & pen.penalised & (score > slack),
                               max(p0, int(active.sum())))
        else:  # ||S(z_g, a rho)|| > (1 - rho) c_g (2a - a_prev)
            soft, ball = pen._soft_norm(z, alpha * rho), (1 - rho) * pen.weights
            strong = strong_candidates(  # (unpenalised groups join below, outside the cap)
                (soft > ball * (2 * alpha - alpha_prev)) & pen.penalised, active, soft, ball,
                p0, not self.sparse and self.n < self.p)
        block = self._unpen_block(pen)
        ws = active | ~pen.penalised | strong  # (strong: penalised groups only)

        # (box limits: the Newton step would have to respect them; not attempted)
        pause = (Pause(self._pause, POLISH_MIN_EPOCHS, POLISH_EPOCHS) if supported(pen)
                 else None)

        def run(inner, left, first):
            grown = False
            # the sweeps after a declined Newton step run without extrapolation: on the
            # singular active sets where steps are declined, Anderson's coefficients solve a
            # near-singular system and its outcome rests on rounding (weighted and repeated
            # rows then parted at 1e-7, where they agree to 1e-12 otherwise)
            plain = pause is not None and pause.resuming and pause.tried > pause.taken
            if pause is not None:
                pause.resuming = False
            if not first:
                v = pen.violation(self._z, alpha)
                viol = (v > slack) & ~ws
                if viol.any():  # grow by at most max(p0, |ws|), the worst violators first
                    ws[:] |= self._top(v, viol, max(p0, int(ws.sum())))
                    grown = True
            chunk = left if pause is None else pause.chunk(left)
            epochs, _ = self._sweep(w, np.flatnonzero(ws).astype(np.int32), alpha, pen, chunk,
                                    tol_abs if grown else inner, anderson=not plain,
                                    pred=pred if first else None)
            self._unpen_step(w, block)
            if pause is not None and pause.due(epochs, chunk, left):
                # a slow tail: Newton steps on the active set, then sweeps resume (they
                # bring in what the steps cannot see)
                pause.record(self._newton(w, pen, alpha))
                pause.resuming = True
                return epochs, None  # resume on the same target
            return epochs, (None if grown else np.inf)

        def cert_of():
            wc = self._returned(w)
            return certificate(self.cert_stats(wc, penalty, alpha), penalty, alpha, wc)

        cert, epochs = stop_on_certificate(run, cert_of, tol_abs, max_iter)
        if pause is not None:
            self._pause = pause.next(self._pause, cert.gap <= tol_abs)
            if cert.gap > tol_abs and self._fresh:
                cert = self._refine64(w, penalty, alpha, cert)
        return cert, epochs

    def _refine64(self, w, pen, alpha, cert):
        """float32: an uncertified point finished by Newton steps on the active set in
        float64 (the user's centred columns), then rounded back. Where the Gram's large
        eigenvalues meet ``eps32`` the float32 grid is too coarse for a certificate (the
        diabetes cubic features in groups of 3 at ``alpha = 1e-3``: a gap of 4.1 at the
        float32 rounding of a point whose own gap is 2e-8, against a target of 0.30); the
        bound reported is ``gap(w64) + P(w32) - P(w64)`` (as
        :meth:`GLMProblem._refine64 <sklearn_normpen._solvers.prox_newton.GLMProblem._refine64>`),
        kept only when it is the better one."""
        d = self.design
        inv = np.asarray(self.inv_scale, np.float64)
        w64 = np.asarray(w, dtype=np.float64).copy()
        A, G = None, None
        for _ in range(REFINE_STEPS):
            A_new = active_features(w64, pen)
            if A_new.size == 0 or not refinable(A_new.size, d.n):
                break
            if A is None or not np.array_equal(A, A_new):  # (formed once per active set)
                A = A_new
                SB = B = d.explicit_columns(A) * inv[A]  # the solver's columns, float64
                if d.sw64 is not None:
                    SB = B * d.sw64[:, None]
                G = SB.T @ B / d.N
                ids, loc = np.unique(pen.group_of[A], return_inverse=True)
                c = np.asarray(pen.weights, np.float64)[ids]
            r = d.yc64 - d.centred_product64(inv * w64)
            out = active_set_newton(G, SB.T @ r / d.N, w64[A], loc, c, float(alpha),
                                    pen.rho)
            if out is None:
                break
            w64[A] = out[0]
        z = self._z  # (cert_stats keeps the gradient of its point for the next solve)
        s64 = self.cert_stats(w64, pen)
        c64 = certificate(s64, pen, alpha, w64)
        s64 = replace(s64, g=np.array(s64.g, dtype=np.float64))  # (not the solver's buffer)
        w32 = w64.astype(self.dtype)
        wc = self._returned(w32)
        s32 = self.cert_stats(wc, pen)
        c32 = certificate(s32, pen, alpha, wc)
        norms = d.raw_norms64(inv)  # (the solver's columns: X diag(inv))
        out = rounded_certificate(
            c64, *rounding_change(s64, s32, w64, wc, pen, alpha, norms, d.n), c32.primal,
            like=c32)
        if not out.gap < cert.gap:
            self._z = z
            return cert
        w[:] = w32  # (the gradient kept, _z, is c32's: w32's)
        self.r = self.residual(w)
        return out

    def _newton(self, w, pen, alpha):
        """Newton steps on the active set (:mod:`.group_newton`) from ``w``, kept when they
        lower the objective: ``w`` and the stored residual updated. Only when affordable:
        forming ``X_Aᵀ S X_A`` and factorising it cost at most two pauses of sweeps over
        the active columns. Returns whether ``w`` changed."""
        A = active_features(w, pen)
        # (where the exact step runs, the unpenalised block is minimised out through its
        # QR rather than factorised with the others: its Gram squares its condition
        # number, and steps on that model raised the true objective, gaps 0.06 -> 2)
        block = self._unpen_block(pen)
        if block is not None:
            A = A[~np.isin(A, block[0])]
        k = A.size
        if k == 0 or k > POLISH_MAX or not np.any(w[A]):
            return False
        nnz = (float(np.sum(self.indptr[A + 1] - self.indptr[A])) if self.sparse
               else float(self.n) * k)
        if self.n * k * k + k ** 3 / 3 > 4 * POLISH_EPOCHS * nnz:
            return False
        B = self._columns64(A)
        rt = self._residual64(w) if self._fresh else self.centred_residual(self.r, w)
        if block is None:
            SB = B if self.sw is None else B * np.asarray(self.sw, np.float64)[:, None]
            G, g = SB.T @ B / self.n, SB.T @ rt / self.n
        else:
            G, g = block[1].projected(B, rt)
            G, g = G / self.n, g / self.n
        u = newton_step(G, g, A, w, pen, alpha, self.dtype)
        if u is None:
            return False
        w[A] = u
        self.r = self.residual(w)
        self._z = None
        self._unpen_step(w, block)  # (the model held the block at its best for each w[A])
        return True

    def _columns64(self, A):
        """The centred columns ``A`` of the prepared data in float64 (n × |A|; dense: the
        kernel's ``Xd`` less its implicit means, sparse: densified)."""
        xm = np.asarray(self.xmean, np.float64)[A]
        if self.sparse:
            B = self.Xs[:, A].toarray().astype(np.float64, copy=False)
        else:
            B = np.asarray(self.Xd[:, A], dtype=np.float64)  # (a copy: advanced indexing)
        return B - xm

    def from_original(self, coef):
        """Solver-scale coefficients from user-scale ones (a warm start)."""
        coef = np.asarray(coef, dtype=self.dtype)
        ok = self.inv_scale > 0
        return np.where(ok, coef / np.where(ok, self.inv_scale, 1), 0).astype(self.dtype)

    def _returned(self, w):
        """The point a certificate is formed at: ``w``, or (float32) the solver-scale
        coefficients that the returned float32 ones stand for
        (:func:`~sklearn_normpen._design.rounded_coefficients`): the gap then bounds what
        the user gets (away from the optimum the cast moves the objective at first
        order)."""
        if not self._fresh:
            return w
        return rounded_coefficients(w, self.inv_scale, self.dtype)[1]

    def to_original(self, w):
        """Coefficients and intercept on the user's scale."""
        coef = rounded_coefficients(w, self.inv_scale, self.dtype, effective=False)[0]
        # the intercept of the rounded coefficients, kept in float64 (as returned)
        intercept = (self.y_off - float(self.X_off @ coef.astype(np.float64))
                     if self.fit_intercept else 0.0)
        return coef, intercept
