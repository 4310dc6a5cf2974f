"""Spies on the certificates, shared by the group lasso's, the multi-response group
lasso's and the group GLMs' tests: the bounded certificate gradients
(``_solvers/gradient_bound``) and the certificates' primal values."""
import numpy as np

from sklearn_normpen._solvers.gradient_bound import GradientReferences


def spy_bounded_gradients(monkeypatch, cls, method, share):
    """Wrap ``cls.method(self, r, w, pen, alpha)`` (a certificate's gradient, bounded where
    it can be). Each call with ``alpha`` records ``(terms at the returned gradient, terms at
    the full one, whether the call was partial (pushed no reference), share(z))``; a call
    without ``alpha`` must return the full gradient. Returns the list of records."""
    seen, pushed = [], []
    real, real_push = getattr(cls, method), GradientReferences.push

    def spy(self, r, w, pen, alpha):
        before = len(pushed)
        z = real(self, r, w, pen, alpha)
        full = self._gradient64(r)
        if alpha is None:
            np.testing.assert_array_equal(z, full)
            return z
        w64 = np.asarray(w, np.float64)
        seen.append((pen.terms(w64, z, z, alpha), pen.terms(w64, full, full, alpha),
                     len(pushed) == before, share(z)))
        return z

    def push_spy(self, *args):
        pushed.append(1)
        return real_push(self, *args)

    monkeypatch.setattr(cls, method, spy)
    monkeypatch.setattr(GradientReferences, "push", push_spy)
    return seen


def assert_bounded_like_full(seen, min_partial):
    """At least ``min_partial`` of the certificates were partial, each computing at most
    half the features; every one reports the full gradient's penalty value and conjugate
    exactly, its dual scaling and KKT violation to 1e-12 (relative; absolute below 1)."""
    partial = [s for s in seen if s[2]]
    assert len(partial) >= min_partial * len(seen) and max(s[3] for s in partial) <= 0.5
    for (va, ta, ca, ka), (vb, tb, cb, kb), _, _ in seen:
        assert va == vb and ca == cb
        assert abs(ta - tb) <= 1e-12 * (abs(tb) + 1) and abs(ka - kb) <= 1e-12 * (abs(kb) + 1)


def spy_certificate_primals(monkeypatch, *modules):
    """Wrap the ``certificate`` function each of ``modules`` calls; returns the list of
    ``(alpha, primal)`` of every certificate formed, in order."""
    seen = []

    def wrap(real):
        def certificate(stats, pen, alpha, w, **kw):
            out = real(stats, pen, alpha, w, **kw)
            seen.append((alpha, out.primal))
            return out
        return certificate

    for mod in modules:
        monkeypatch.setattr(mod, "certificate", wrap(mod.certificate))
    return seen
