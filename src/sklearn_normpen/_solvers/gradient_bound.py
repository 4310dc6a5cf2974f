"""Which zero groups a certificate may leave out: bounds on its gradient from earlier ones.

The certificate's gradient ``z = A r`` (``A = X_cᵀ S / N``) is linear in the residual. The
last full products ``(r_k, z_k)`` (newest first) bound it at a new residual ``r``: with
``r = r_0 + Σ c_k (r_k - r_0) + e`` for any ``c`` (least squares; ``e`` is computed, so
every ``c`` is valid), ``z = zc + A e`` where ``zc`` is the same combination of the
``z_k``, and ``||A_g e|| <= sqrt(L_g / N) ||e||_S`` for group ``g`` (``N L_g`` the largest
eigenvalue of ``X_gcᵀ S X_gc``). Through a 1-Lipschitz map ``S`` (soft-thresholding, of
entries or of row norms: the prox of the penalty's l1 part), ``||S(z_g)|| <=
||S(zc_g)|| + sqrt(L_g / N) ||e||_S``. A zero group whose bound is inside its ball (the
group part's radius) may enter the certificate with ``z_g = 0``: it binds neither the dual
scaling ``t <= 1`` (``||S(t z_g)||`` grows with ``t``) nor the KKT violation, so the gap
and the violation are those of the exact gradient, without its product.
"""
import numpy as np

#: full products the bound combines, at most
Z_REFS = 4


class GradientReferences:
    """The last full certificate gradients and their residuals (float64, flattened, one
    row of a ring buffer each; ``_order`` lists the rows newest first) with each
    gradient's group norms; emptied by the owner when its data change."""

    def __init__(self, size=Z_REFS):
        self.size = size
        self.clear()

    def clear(self):
        self._R = self._Z = self._gz = None
        self._order, self._shape = [], None

    def push(self, r, z, group_of, n_groups):
        """Make ``(r, z)`` (copied) the newest reference; ``group_of``: each feature's group
        (the gradient's first axis)."""
        r, z = np.asarray(r, dtype=np.float64), np.asarray(z, dtype=np.float64)
        if self._R is None or self._shape != (r.shape, z.shape, n_groups):
            self._R = np.zeros((self.size, r.size))
            self._Z = np.zeros((self.size, z.size))
            self._gz = np.zeros((self.size, n_groups))
            self._order, self._shape = [], (r.shape, z.shape, n_groups)
        order = self._order
        slot = len(order) if len(order) < self.size else order.pop()
        self._R[slot], self._Z[slot] = r.ravel(), z.ravel()
        per = z.size // group_of.size if group_of.size else 0  # (entries per feature)
        sq = (z * z).reshape(group_of.size, per).sum(axis=1)
        self._gz[slot] = np.sqrt(np.bincount(group_of, weights=sq, minlength=n_groups))
        order.insert(0, slot)

    def skipped(self, r, soft, lip, radius, zero, norm=np.linalg.norm):
        """Boolean per group: the groups ``zero`` whose bound at the residual ``r`` is
        inside ``radius`` (None without a reference).

        ``soft(zc)``: ``||S(zc_g)||`` per group; ``lip``: ``sqrt(L_g / N)`` per group;
        ``norm``: the residual's norm ``||.||_S``. Rounding is covered by a slack of
        ``1e-7`` of the combined products' group norms and ``1e-12`` of the residuals'
        (the float64 products, the combination and ``e``)."""
        order = self._order
        if not order:
            return None
        r = np.asarray(r, dtype=np.float64)
        R = self._R[order]  # (small: residuals)
        v = r.ravel() - R[0]
        a = np.zeros(self.size)  # zc = aᵀ Z: z_0 + Σ c_k (z_k - z_0)
        a[order[0]] = 1.0
        w0 = 1.0  # the weight of ||z_0,g|| in the rounding slack
        size = float(norm(r)) + float(norm(R[0].reshape(r.shape)))
        if len(order) > 1:
            D = (R[1:] - R[0]).T
            # any c is valid (e is computed): the normal equations, regularised at
            # rounding level (at most Z_REFS - 1 unknowns)
            G = D.T @ D
            tr = float(np.trace(G))
            c = (np.linalg.solve(G + 1e-12 * tr * np.eye(len(G)), D.T @ v) if tr > 0
                 else np.zeros(len(G)))
            e = v - D @ c
            a[order[1:]] = c
            a[order[0]] -= c.sum()
            w0 += np.abs(c).sum()
            size += sum(abs(ck) * float(norm(D[:, k].reshape(r.shape)))
                        for k, ck in enumerate(c))
        else:
            e = v
        # the rounding of zc is at most eps Σ|a_k| |z_k| entrywise (|a_0| <= 1 + Σ|c|),
        # in group norm at most the same sum of the ||z_k,g||
        wts = np.abs(a)
        wts[order[0]] = w0
        k = len(order)  # (the ring fills slots 0, 1, ... first: only those hold products)
        gslack = wts[:k] @ self._gz[:k]
        zc = (a[:k] @ self._Z[:k]).reshape(self._shape[1])
        bound = (soft(zc) + 1e-7 * gslack
                 + lip * (float(norm(e.reshape(r.shape))) * (1 + 1e-7) + 1e-12 * size))
        return (bound <= radius * (1 - 1e-7)) & zero
