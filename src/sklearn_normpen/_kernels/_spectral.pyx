# Spectral ridge kernels: leave-one-out and GCV errors for every alpha and every target
# from one decomposition of the (centred, sqrt(s)-scaled) design.
#
# Notation (see sklearn_normpen/_solvers/spectral.py): the scaled design is Xs = U diag(σ) Vᵀ
# (rank k), lam = σ², ys the scaled centred targets, Z = Uᵀ ys, g(α) = α / (lam + α).
# Residual of the full fit:  r(α) = r_perp + U (g(α) ∘ Z),    r_perp = ys - U Z
# One minus the leverage:    d(α) = q + (U ∘ U) g(α),          q = 1 - h0 - rowsum(U ∘ U)
# (h0_i = s_i / Σs is the leverage of the unpenalised intercept). Writing both as
# "what the filter leaves out" keeps them accurate when the fit interpolates (p ≫ n, α → 0):
# no 1 - h cancellation. The LOO residual in the scaled space is r / d; the squared LOO
# error of sample i on the original scale is (r_i / d_i)² / s_i.
#
# The work is two GEMMs per block of rows (BLAS level 3, through scipy's cython_blas) and a
# fused pass accumulating the sums the CV statistics need, so the n x n_alphas x n_targets
# residual array is never materialised unless the caller asks to store it. When n >= 4k the
# residual GEMM goes through a rank-r factorisation of the shrinkage matrix (r ~ 35-40 for
# 100 alphas at rounding accuracy), see loo_sums_lowrank.
#
# What is Cython and what is NumPy: LOO and GCV are these kernels. The per-alpha filter for
# coefficients, w = V [σ/(σ²+α) ∘ z], is a single NumPy GEMM over all alphas and targets
# (SpectralDecomposition.coef_path): it is compute-bound BLAS-3 already, and a Cython kernel
# would call the same dgemm; it is also formed lazily (coef_path_ on first access).
from cython cimport floating
from libc.stdlib cimport malloc, free
from scipy.linalg cimport cython_blas as blas


cdef inline void _gemm_rm(int m, int n, int k, const floating* A, const floating* B,
                          floating beta, floating* C) noexcept nogil:
    """Row-major C (m x n) = A (m x k) @ B (k x n) + beta C, all contiguous row-major.

    Row-major C = A B is column-major Cᵀ = Bᵀ Aᵀ, hence the swapped operands.
    """
    cdef char nn = b'N'
    cdef floating one = 1.0
    if floating is float:
        blas.sgemm(&nn, &nn, &n, &m, &k, &one, <float*>B, &n, <float*>A, &k, &beta, C, &n)
    else:
        blas.dgemm(&nn, &nn, &n, &m, &k, &one, <double*>B, &n, <double*>A, &k, &beta, C, &n)


cdef inline void _accumulate(int nb, int i0, int A, int T, const floating* R,
                             int stride_a, int stride_t, int stride_b, const floating* D,
                             const floating[::1] sw, floating[:, ::1] sum_e,
                             floating[:, ::1] sum_e2, floating[::1] sum_mean_e2,
                             floating[:, :, ::1] store, bint do_store) noexcept nogil:
    """Add one block's LOO errors (residual R, one-minus-leverage D) to the running sums."""
    cdef int b, i, a, t
    cdef floating s, d, rr, e, emean
    for b in range(nb):
        i = i0 + b
        s = sw[i]
        if s <= 0:
            continue  # zero weight: contributes nothing (the caller fills stored values)
        for a in range(A):
            d = D[b * A + a]
            emean = 0
            for t in range(T):
                rr = R[b * stride_b + a * stride_a + t * stride_t] / d
                e = rr * rr / s
                sum_e[a, t] += s * e
                sum_e2[a, t] += s * e * e
                emean += e
                if do_store:
                    store[i, t, a] = e
            emean = emean / T
            sum_mean_e2[a] += s * emean * emean


cdef int _loo(const floating[:, ::1] U, const floating[:, ::1] G, const floating* P,
              const floating* Q, int r, const floating[:, ::1] Z,
              const floating[:, ::1] r_perp, const floating[::1] q, const floating[::1] sw,
              floating[:, ::1] sum_e, floating[:, ::1] sum_e2, floating[::1] sum_mean_e2,
              floating[:, :, ::1] store, int block, bint lowrank,
              bint lowrank_leverage) except -1:
    """The blocked LOO accumulation behind :func:`loo_sums` (residual GEMM through
    C = G ∘ Z) and :func:`loo_sums_lowrank` (``lowrank``: through G ≈ P Q, P k x r and
    Q r x n_alphas row-major)."""
    cdef int n = <int>U.shape[0], k = <int>U.shape[1]
    cdef int A = <int>G.shape[1], T = <int>Z.shape[1]
    cdef int AT = A * T, TR = T * r
    cdef bint do_store = store.shape[0] > 0
    cdef int i0, b, i, j, a, t, l, nb, ncol_c
    cdef size_t k1 = max(k, 1)
    cdef floating* C
    cdef floating* R
    cdef floating* D
    cdef floating* UU
    cdef floating* M
    cdef floating* W
    if n == 0:
        return 0
    if block < 1:
        block = 1
    if block > n:
        block = n
    # Layouts: C is k x ncol_c; a block's residuals R[b, a, t] sit at b * AT + a * T + t
    # (plain) or b * AT + t * A + a (low-rank): the GEMM outputs.
    ncol_c = max(TR, 1) if lowrank else AT
    with nogil:
        # one allocation: C, R (block x AT), D (block x A), UU (block x k), and for the
        # low-rank route M (block x T*r) and W (block x r)
        C = <floating*>malloc(sizeof(floating) * (
            k1 * ncol_c + <size_t>block * (AT + A + k1)
            + (<size_t>block * (max(TR, 1) + max(r, 1)) if lowrank else 0)))
        if C == NULL:
            with gil:
                raise MemoryError()
        R = C + k1 * ncol_c
        D = R + <size_t>block * AT
        UU = D + <size_t>block * A
        M = UU + <size_t>block * k1
        W = M + <size_t>block * max(TR, 1)
        for j in range(k):
            if lowrank:
                # C[j, t*r + l] = P_jl Z_jt
                for t in range(T):
                    for l in range(r):
                        C[j * TR + t * r + l] = P[j * r + l] * Z[j, t]
            else:
                # C[j, a*T + t] = g_ja Z_jt : the filtered coordinates of every (alpha, target)
                for a in range(A):
                    for t in range(T):
                        C[j * AT + a * T + t] = G[j, a] * Z[j, t]
        for a in range(A):
            sum_mean_e2[a] = 0
            for t in range(T):
                sum_e[a, t] = 0
                sum_e2[a, t] = 0
        i0 = 0
        while i0 < n:
            nb = min(block, n - i0)
            for b in range(nb):
                i = i0 + b
                for a in range(A):
                    D[b * A + a] = q[i]
                # R <- r_perp, in each route's layout, contiguous inner loops
                if lowrank:
                    for t in range(T):
                        for a in range(A):
                            R[b * AT + t * A + a] = r_perp[i, t]
                else:
                    for a in range(A):
                        for t in range(T):
                            R[b * AT + a * T + t] = r_perp[i, t]
                for j in range(k):
                    UU[b * k + j] = U[i, j] * U[i, j]
            if lowrank:
                if k > 0 and r > 0:
                    _gemm_rm(nb, TR, k, &U[i0, 0], C, 0.0, M)          # (nb, T*r)
                    _gemm_rm(nb * T, A, r, M, Q, 1.0, R)               # (nb*T, A)
                if k > 0 and lowrank_leverage and r > 0:
                    _gemm_rm(nb, r, k, UU, P, 0.0, W)                  # (nb, r)
                    _gemm_rm(nb, A, r, W, Q, 1.0, D)
                elif k > 0:
                    _gemm_rm(nb, A, k, UU, &G[0, 0], 1.0, D)
            elif k > 0:
                _gemm_rm(nb, AT, k, &U[i0, 0], C, 1.0, R)
                _gemm_rm(nb, A, k, UU, &G[0, 0], 1.0, D)
            # literal unit strides, so the inlined accumulation keeps a unit-stride loop
            if lowrank:
                _accumulate(nb, i0, A, T, R, 1, A, AT, D, sw, sum_e, sum_e2, sum_mean_e2,
                            store, do_store)
            else:
                _accumulate(nb, i0, A, T, R, T, 1, AT, D, sw, sum_e, sum_e2, sum_mean_e2,
                            store, do_store)
            i0 += nb
        free(C)
    return 0


def loo_sums(const floating[:, ::1] U, const floating[:, ::1] G,
             const floating[:, ::1] Z, const floating[:, ::1] r_perp,
             const floating[::1] q, const floating[::1] sw,
             floating[:, ::1] sum_e, floating[:, ::1] sum_e2,
             floating[::1] sum_mean_e2, floating[:, :, ::1] store,
             int block=256):
    """Accumulate weighted LOO statistics for every alpha and target.

    Parameters
    ----------
    U : (n, k) left singular vectors of the scaled design (C order).
    G : (k, n_alphas) shrinkage factors α / (σ² + α).
    Z : (k, n_targets) Uᵀ ys.
    r_perp : (n, n_targets) ys - U Z.
    q : (n,) 1 - h0 - rowsum(U ∘ U), clipped at 0 by the caller.
    sw : (n,) sample weights s_i (ones when unweighted).
    sum_e, sum_e2 : (n_alphas, n_targets) out: Σ s_i e_i and Σ s_i e_i², e_i the squared
        LOO error of sample i (original scale). Samples with s_i = 0 are skipped.
    sum_mean_e2 : (n_alphas,) out: Σ s_i ē_i², ē_i the mean over targets of e_i.
    store : (n, n_targets, n_alphas) out, or shape (0, 0, 0): per-sample squared LOO errors.
    block : rows per GEMM block.
    """
    _loo(U, G, <const floating*>NULL, <const floating*>NULL, 0, Z, r_perp, q, sw, sum_e,
         sum_e2, sum_mean_e2, store, block, False, False)


def gcv_values(const floating[::1] lam, const floating[::1] alphas,
               const floating[:, ::1] Z, const floating[::1] rss_perp,
               floating h0_trace, floating sw_sum, floating n_samples,
               floating[:, ::1] gcv, floating[::1] df):
    """Generalised cross-validation (Golub, Heath & Wahba) for every alpha and target.

    ``gcv[a, t] = (RSS_t(α) / Σs) / (1 - tr H(α) / n)²`` with
    ``RSS_t(α) = rss_perp_t + Σ_j (g_j Z_jt)²`` and ``tr H(α) = h0_trace + df(α)``,
    ``df(α) = Σ_j σ_j² / (σ_j² + α)`` (written to ``df``).
    """
    cdef int k = <int>lam.shape[0], A = <int>alphas.shape[0], T = <int>Z.shape[1]
    cdef int a, j, t
    cdef floating al, g, dfa, denom
    with nogil:
        for a in range(A):
            al = alphas[a]
            dfa = 0
            for t in range(T):
                gcv[a, t] = rss_perp[t]
            for j in range(k):
                g = al / (lam[j] + al)
                dfa += lam[j] / (lam[j] + al)
                for t in range(T):
                    gcv[a, t] += (g * Z[j, t]) * (g * Z[j, t])
            df[a] = dfa
            denom = 1 - (h0_trace + dfa) / n_samples
            denom = denom * denom
            for t in range(T):
                gcv[a, t] = gcv[a, t] / sw_sum / denom


def loo_sums_lowrank(const floating[:, ::1] U, const floating[:, ::1] G,
                     const floating[:, ::1] P, const floating[:, ::1] Q,
                     const floating[:, ::1] Z, const floating[:, ::1] r_perp,
                     const floating[::1] q, const floating[::1] sw,
                     floating[:, ::1] sum_e, floating[:, ::1] sum_e2,
                     floating[::1] sum_mean_e2, floating[:, :, ::1] store,
                     int block=256, bint lowrank_leverage=False):
    """As :func:`loo_sums`, with the residuals through a rank-r factorisation G ≈ P Q.

    ``G = α / (σ² + α)`` is a smooth function of ``log α - log σ²`` sampled on a grid, so its
    numerical rank r is far below min(k, n_alphas). The residual of target t is then
    ``r_perp + Σ_l (U (P_l ∘ z_t)) Q_l``: GEMMs of n·k·r·T + n·r·T·A instead of n·k·A·T.
    The leverages (``D = q + (U ∘ U) G``, target-independent) stay exact unless
    ``lowrank_leverage`` (the caller checks that every ``q_i`` is far from 0, so the
    factorisation's rounding-level error stays relative-small in ``D``).
    P : (k, r), Q : (r, n_alphas); G : (k, n_alphas) exact.
    """
    _loo(U, G, &P[0, 0], &Q[0, 0], <int>P.shape[1], Z, r_perp, q, sw, sum_e, sum_e2,
         sum_mean_e2, store, block, True, lowrank_leverage)
