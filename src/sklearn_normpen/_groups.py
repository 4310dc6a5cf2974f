"""The ``groups`` argument of the group-lasso estimators: parsing and validation.

Accepted forms (``n`` = number of features):

* ``None``: every feature is its own group (the fit is then the lasso).
* one label per feature (length ``n``; ints or strings): features sharing a label form a
  group, groups are ordered by first appearance; the label ``None`` marks an unpenalised
  feature.
* a list of index lists, e.g. ``[[0, 1, 2], [3, 4]]`` (column names instead of indices are
  allowed when ``X`` has feature names).
* a dict ``{name: columns}`` (indices or column names).
* ``"prefix"``: groups from the feature names ``X`` carries, by
  :func:`groups_from_feature_names` with its defaults (e.g. the one-hot columns
  ``color_red, color_blue`` form the group ``color``).
* a callable ``f(feature_names) -> groups`` returning one of the forms above; it receives
  the feature names seen in ``fit`` (``None`` when ``X`` has none). Use it to choose the
  prefixes explicitly: ``functools.partial(groups_from_feature_names, prefixes=["color"])``.

Features in no group are unpenalised. Overlapping groups, empty groups, out-of-range
indices, duplicated features and length mismatches are errors.
"""
from itertools import chain
import numbers

import numpy as np


def groups_from_feature_names(feature_names, prefixes=None, sep="_"):
    """One group label per feature, read from feature-name prefixes.

    Made for the names that ``OneHotEncoder`` (``"color_red"``) and ``ColumnTransformer``
    (``"cat__color_red"``: transformer name, ``"__"``, column name) emit.

    Parameters
    ----------
    feature_names : array-like of str
        The feature names, e.g. ``pipeline[:-1].get_feature_names_out()`` or an
        estimator's ``feature_names_in_``.
    prefixes : list of str, default=None
        The original variable names (e.g. the encoded columns). A feature belongs to the
        longest prefix ``p`` with ``name == p`` or ``name.startswith(p + sep)``, tried on the
        full name and on the name without its ``ColumnTransformer`` part (``"cat__"``).
        Features matching no prefix are their own singleton group (still penalised).
        When None, a feature's label is its name up to the first ``sep`` after the
        ``ColumnTransformer`` part: unambiguous only when the variable names contain no
        ``sep`` (otherwise pass ``prefixes``).
    sep : str, default="_"
        The separator between a variable and its category (``OneHotEncoder`` uses ``"_"``).

    Returns
    -------
    labels : ndarray of object, shape (n_features,)
        A group label per feature, accepted as ``groups`` by the group-lasso estimators.

    Examples
    --------
    >>> groups_from_feature_names(["cat__color_red", "cat__color_blue", "num__age"])
    array(['cat__color', 'cat__color', 'num__age'], dtype=object)
    >>> groups_from_feature_names(["car_make_bmw", "car_make_vw", "age"],
    ...                           prefixes=["car_make"])
    array(['car_make', 'car_make', 'age'], dtype=object)
    """
    names = [str(n) for n in np.asarray(feature_names, dtype=object).ravel()]
    if not isinstance(sep, str) or not sep:
        raise ValueError(f"sep must be a non-empty string; got {sep!r}.")
    labels = np.empty(len(names), dtype=object)
    if prefixes is not None:
        if isinstance(prefixes, str):
            raise TypeError("prefixes must be a list of strings, not a string.")
        pre = sorted((str(p) for p in prefixes), key=len, reverse=True)
        for i, name in enumerate(names):
            bare = name.split("__", 1)[1] if "__" in name else name
            hit = next((p for p in pre for cand in (name, bare)
                        if cand == p or cand.startswith(p + sep)), None)
            labels[i] = hit if hit is not None else name
        return labels
    for i, name in enumerate(names):
        head, bare = name.split("__", 1) if "__" in name else ("", name)
        var = bare.split(sep, 1)[0] if bare.split(sep, 1)[0] else bare
        labels[i] = f"{head}__{var}" if head else var
    return labels


class GroupStructure:
    """Parsed groups.

    ``groups``: list of int arrays (the user's groups, in order); ``labels``: their names;
    ``unpenalised``: sorted indices of the features in no group. ``flat`` (the groups'
    indices end to end, int64) and ``sizes`` (their lengths) hold the same partition as
    two arrays: the parsers build those, and the list of per-group views only when asked
    (a path never needs it; thousands of groups make it cost as much as a solve).
    """

    def __init__(self, groups=None, labels=None, unpenalised=None, n_features=0, *,
                 flat=None, sizes=None):
        if flat is None:
            groups = list(groups)
            sizes = np.fromiter(map(len, groups), dtype=np.int64, count=len(groups))
            flat = (np.concatenate(groups).astype(np.int64, copy=False) if groups
                    else np.zeros(0, dtype=np.int64))
        if groups is not None:  # else made on first use
            self.__dict__["groups"] = groups
        self.flat = np.asarray(flat, dtype=np.int64)
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.labels = list(labels)
        self.unpenalised = (np.zeros(0, dtype=np.intp) if unpenalised is None
                            else np.asarray(unpenalised))
        self.n_features = int(n_features)

    def __getattr__(self, name):
        if name != "groups":
            raise AttributeError(name)
        ends = np.cumsum(self.sizes).tolist()
        groups = [self.flat[a:b] for a, b in zip([0] + ends[:-1], ends)]
        self.__dict__["groups"] = groups
        return groups

    def __repr__(self):
        return (f"GroupStructure({len(self.sizes)} groups, {self.unpenalised.size} "
                f"unpenalised, n_features={self.n_features})")

    def kernel_arrays(self, weights):
        """``(gptr, gidx, c)`` for the kernels: the user's groups with their weights, then
        every unpenalised feature as a singleton group of weight 0. The last call's
        arrays are kept (read-only) and returned again for the same weights: every CV
        fold's problem asks for them."""
        weights = np.asarray(weights, dtype=np.float64)
        key = (weights.shape, weights.tobytes())
        last = self.__dict__.get("_kernel_arrays")
        if last is not None and last[0] == key:
            return last[1]
        u = self.unpenalised.size
        sizes = np.concatenate([self.sizes, np.ones(u, dtype=np.int64)])
        gptr = np.zeros(sizes.size + 1, dtype=np.int32)
        np.cumsum(sizes, out=gptr[1:])
        gidx = np.concatenate([self.flat, self.unpenalised]).astype(np.int32)
        c = np.concatenate([weights, np.zeros(u)])
        for a in (gptr, gidx, c):
            a.flags.writeable = False
        self._kernel_arrays = (key, (gptr, gidx, c))
        return gptr, gidx, c


_LISTLIKE = (list, tuple, np.ndarray, range)


def _is_listlike(obj):
    return isinstance(obj, _LISTLIKE)


def _all_listlike(items):
    """Whether every entry of ``items`` is a list-like (one pass over their types)."""
    return all(issubclass(t, _LISTLIKE) for t in set(map(type, items)))


def _column_index(col, n_features, feature_names, where):
    if isinstance(col, (bool, np.bool_)):
        raise ValueError(f"{where}: boolean {col!r} is not a column index.")
    if isinstance(col, numbers.Integral):
        j = int(col)
        if not 0 <= j < n_features:
            raise ValueError(f"{where}: column index {j} is out of range for "
                             f"{n_features} features.")
        return j
    if isinstance(col, str):
        if feature_names is None:
            raise ValueError(f"{where}: column name {col!r} given but X has no feature "
                             "names (pass a DataFrame or use integer indices).")
        hits = np.flatnonzero(np.asarray(feature_names, dtype=object) == col)
        if hits.size == 0:
            raise ValueError(f"{where}: unknown column name {col!r}.")
        return int(hits[0])
    raise ValueError(f"{where}: {col!r} is neither an integer index nor a column name.")


def _index_lists_fast(items, n_features):
    """Integer index lists validated in a few NumPy passes (no loop over features):
    ``(flat, sizes, labels)``, the groups end to end and their lengths, or None when any
    check fails or an entry is not an integer (the per-group path then names the
    offending group or value)."""
    cols = [c for _, c in items]
    types = set(map(type, cols))
    if not all(issubclass(t, _LISTLIKE) for t in types):
        return None
    lens = np.fromiter(map(len, cols), dtype=np.int64, count=len(cols))
    if not lens.size or lens.min() == 0:
        return None
    if any(issubclass(t, np.ndarray) for t in types):
        try:
            flat = np.concatenate([np.asarray(c) for c in cols])
        except ValueError:
            return None
        if flat.ndim != 1 or flat.dtype.kind not in "iu":
            return None
    else:  # Python lists: only plain (or NumPy) integers, never bools
        entries = list(chain.from_iterable(cols))
        if not all(issubclass(t, (int, np.integer)) and t is not bool
                   for t in set(map(type, entries))):
            return None
        flat = np.fromiter(entries, dtype=np.int64, count=len(entries))
    if flat.min() < 0 or flat.max() >= n_features:
        return None
    if np.bincount(flat, minlength=n_features).max() > 1:
        return None  # a duplicate or an overlap: the slow path says which
    return flat.astype(np.int64, copy=False), lens, [name for name, _ in items]


def _from_index_lists(items, n_features, feature_names):
    """``(groups, labels, flat, sizes)``; ``groups`` None when the fast path took them
    (the structure makes the list on demand)."""
    fast = _index_lists_fast(items, n_features)
    if fast is not None:
        return (None,) + fast[2:] + fast[:2]
    groups, labels = [], []
    for name, cols in items:
        where = f"groups[{name!r}]"
        if not _is_listlike(cols):
            cols = [cols]
        arr = np.asarray(cols)
        if arr.ndim == 1 and arr.dtype.kind in "iu" and arr.size:  # fast path: indices
            bad = (arr < 0) | (arr >= n_features)
            if bad.any():
                raise ValueError(f"{where}: column index {int(arr[bad][0])} is out of "
                                 f"range for {n_features} features.")
            idx = arr.astype(np.int64).tolist()
        else:
            idx = [_column_index(c, n_features, feature_names, where) for c in cols]
        if len(idx) == 0:
            raise ValueError(f"{where} is empty; every group needs at least one feature.")
        if len(set(idx)) != len(idx):
            dup = sorted({j for j in idx if idx.count(j) > 1})
            raise ValueError(f"{where} lists feature(s) {dup} more than once.")
        groups.append(np.asarray(idx, dtype=np.int64))
        labels.append(name)
    return groups, labels, None, None


def _labels_fast(labels_arr):
    """``_from_labels`` in a few NumPy passes for an array of numbers or strings (NaN:
    unpenalised), or None for anything else (objects, None entries, mixed types)."""
    arr = labels_arr
    if not isinstance(arr, np.ndarray):
        kinds = set(map(type, arr))
        if len(kinds) != 1 or not kinds <= {int, float, str}:
            return None
        arr = np.asarray(arr)
    if arr.ndim != 1 or arr.dtype.kind not in "iufU":
        return None
    keep = ~np.isnan(arr) if arr.dtype.kind == "f" else np.ones(arr.shape[0], dtype=bool)
    idx = np.flatnonzero(keep)
    uniq, first, inverse = np.unique(arr[idx], return_index=True, return_inverse=True)
    order = np.argsort(first)  # labels in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    members = idx[np.argsort(rank[inverse.ravel()], kind="stable")]
    counts = np.bincount(rank[inverse.ravel()], minlength=order.size)
    return None, uniq[order].tolist(), members.astype(np.int64), counts


def _from_labels(labels_arr, n_features):
    """``(groups, labels, flat, sizes)`` as :func:`_from_index_lists` returns them."""
    if len(labels_arr) != n_features:
        raise ValueError(f"groups has {len(labels_arr)} labels but X has {n_features} "
                         "features; give one label per feature (None: unpenalised), or a "
                         "list of index lists.")
    fast = _labels_fast(labels_arr)
    if fast is not None:
        return fast
    order, members = [], {}
    for j, lab in enumerate(labels_arr):
        if lab is None or (isinstance(lab, float) and np.isnan(lab)):
            continue
        if isinstance(lab, np.generic):
            lab = lab.item()
        if lab not in members:
            members[lab] = []
            order.append(lab)
        members[lab].append(j)
    return [np.asarray(members[lab], dtype=np.int64) for lab in order], order, None, None


def parse_groups(groups, n_features, feature_names=None):
    """Parse ``groups`` (any accepted form) into a :class:`GroupStructure`."""
    if callable(groups):
        groups = groups(None if feature_names is None else np.asarray(feature_names))
        if callable(groups) or (isinstance(groups, str)):
            raise ValueError("a callable groups must return labels, index lists or a dict.")
    if groups is None:
        parsed = (None, (list(feature_names) if feature_names is not None
                         else list(range(n_features))),
                  np.arange(n_features), np.ones(n_features, dtype=np.int64))
    elif isinstance(groups, str):
        if groups != "prefix":
            raise ValueError(f"groups={groups!r}: the only string option is 'prefix'.")
        if feature_names is None:
            raise ValueError("groups='prefix' needs feature names: fit on a DataFrame, e.g. "
                             "with set_output(transform='pandas') on the upstream steps.")
        parsed = _from_labels(groups_from_feature_names(feature_names), n_features)
    elif isinstance(groups, dict):
        parsed = _from_index_lists(list(groups.items()), n_features, feature_names)
    elif (isinstance(groups, np.ndarray) and groups.ndim == 1
          and groups.dtype.kind in "iufU"):  # labels (numbers, strings): no loop
        parsed = _from_labels(groups, n_features)
    elif _is_listlike(groups):
        items = list(groups)
        if len(items) > 0 and _all_listlike(items):
            parsed = _from_index_lists(list(enumerate(items)), n_features, feature_names)
        elif any(_is_listlike(g) for g in items):
            raise ValueError("groups mixes index lists and labels; give either one label "
                             "per feature or a list of index lists.")
        else:
            parsed = _from_labels(items, n_features)
    else:
        raise ValueError(f"groups must be None, 'prefix', a callable, one label per "
                         f"feature, a list of index lists or a dict; got "
                         f"{type(groups).__name__}.")
    grp, labels, flat, sizes = parsed
    structure = GroupStructure(grp, labels, None, n_features, flat=flat, sizes=sizes)
    counts = np.bincount(structure.flat, minlength=n_features)
    if counts.max(initial=0) > 1:  # an overlap: name the groups
        owner = np.full(n_features, -1)
        for g, idx in enumerate(structure.groups):
            taken = owner[idx] >= 0
            if taken.any():
                j = int(idx[taken][0])
                raise ValueError(f"groups overlap: feature {j} is in group "
                                 f"{labels[owner[j]]!r} and in group {labels[g]!r}.")
            owner[idx] = g
    structure.unpenalised = np.flatnonzero(counts == 0)
    return structure


def resolve_group_weights(group_weights, structure):
    """The weight ``c_g`` of each group: ``sqrt(|g|)`` by default; an array (one per group,
    in group order) or a dict ``{label: weight}`` (missing labels keep the default).
    Weights must be finite and non-negative; 0 leaves the group unpenalised."""
    default = np.sqrt(structure.sizes).astype(np.float64)
    if group_weights is None:
        return default
    if isinstance(group_weights, dict):
        w = default.copy()
        pos = {lab: i for i, lab in enumerate(structure.labels)}
        for lab, val in group_weights.items():
            if lab not in pos:
                raise ValueError(f"group_weights: unknown group {lab!r}.")
            w[pos[lab]] = val
    else:
        w = np.asarray(group_weights, dtype=np.float64)
        if w.ndim != 1 or w.shape[0] != structure.sizes.size:
            raise ValueError(f"group_weights must have one entry per group "
                             f"({structure.sizes.size}); got shape {w.shape}.")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"group_weights must be finite and non-negative; got "
                         f"{w[~(np.isfinite(w) & (w >= 0))][:5]}.")
    return w.astype(np.float64)
