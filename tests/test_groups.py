"""The ``groups`` argument in all its forms, its errors, and one-hot Pipeline use."""
import functools

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_normpen import GroupLassoRegressor
from sklearn_normpen._groups import (groups_from_feature_names, parse_groups,
                                     resolve_group_weights)


def _as_lists(structure):
    return [list(map(int, g)) for g in structure.groups]


def test_none_is_singletons():
    s = parse_groups(None, 4)
    assert _as_lists(s) == [[0], [1], [2], [3]] and s.unpenalised.size == 0


def test_labels_index_lists_and_dict_agree():
    a = parse_groups(["a", "b", "a", None, "b"], 5)
    b = parse_groups([[0, 2], [1, 4]], 5)
    c = parse_groups({"a": [0, 2], "b": [1, 4]}, 5)
    d = parse_groups(np.array([7, 3, 7, -1, 3]), 5)  # int labels: -1 is just a label
    assert _as_lists(a) == _as_lists(b) == _as_lists(c) == [[0, 2], [1, 4]]
    assert a.labels == ["a", "b"] and c.labels == ["a", "b"]
    assert list(a.unpenalised) == [3] and list(b.unpenalised) == [3]
    assert _as_lists(d) == [[0, 2], [1, 4], [3]] and d.labels == [7, 3, -1]


def test_column_names():
    names = np.array(["x", "y", "z"], dtype=object)
    s = parse_groups({"g": ["x", "z"]}, 3, names)
    assert _as_lists(s) == [[0, 2]] and list(s.unpenalised) == [1]
    with pytest.raises(ValueError, match="unknown column name 'w'"):
        parse_groups({"g": ["w"]}, 3, names)
    with pytest.raises(ValueError, match="no feature names"):
        parse_groups({"g": ["x"]}, 3, None)


@pytest.mark.parametrize("groups, match", [
    ([[0, 1], [1, 2]], "overlap: feature 1"),
    ({"a": [0], "b": []}, r"groups\['b'\] is empty"),
    ([[0, 5]], "out of range"),
    ([[0, -1]], "out of range"),
    ([[0, 0, 1]], r"feature\(s\) \[0\] more than once"),
    (["a", "b"], "2 labels but X has 3 features"),
    ([[0], 1, 2], "mixes index lists and labels"),
    ("bogus", "only string option is 'prefix'"),
    ("prefix", "needs feature names"),
    ([[0.5]], "neither an integer index"),
    ([[True]], "boolean"),
    (3, "groups must be"),
])
def test_errors(groups, match):
    with pytest.raises(ValueError, match=match):
        parse_groups(groups, 3)


def test_estimator_reports_bad_groups():
    X = np.random.default_rng(0).standard_normal((10, 3))
    with pytest.raises(ValueError, match="overlap"):
        GroupLassoRegressor(groups=[[0, 1], [1, 2]]).fit(X, X[:, 0])


def test_group_weights():
    s = parse_groups([[0, 1, 2], [3]], 4)
    assert_allclose(resolve_group_weights(None, s), [np.sqrt(3), 1])
    assert_allclose(resolve_group_weights({1: 5.0}, s), [np.sqrt(3), 5])
    with pytest.raises(ValueError, match="unknown group 7"):
        resolve_group_weights({7: 1.0}, s)
    with pytest.raises(ValueError, match="non-negative"):
        resolve_group_weights([1, -2], s)


def test_kernel_arrays_put_unpenalised_last():
    s = parse_groups([[3, 1], [0]], 5)
    gptr, gidx, c = s.kernel_arrays(resolve_group_weights(None, s))
    assert list(gptr) == [0, 2, 3, 4, 5] and list(gidx) == [3, 1, 0, 2, 4]
    assert_allclose(c, [np.sqrt(2), 1, 0, 0])


def test_groups_from_feature_names():
    names = ["cat__color_red", "cat__color_light_blue", "cat__size_S", "num__age"]
    assert list(groups_from_feature_names(names)) == ["cat__color", "cat__color",
                                                      "cat__size", "num__age"]
    names = ["car_make_bmw", "car_make_vw", "car_model_x", "age"]
    assert list(groups_from_feature_names(names, prefixes=["car_make", "car_model"])) == [
        "car_make", "car_make", "car_model", "age"]
    # the longest prefix wins; a ColumnTransformer prefix is skipped when matching
    assert list(groups_from_feature_names(["oh__ab_c_x", "oh__ab_y"],
                                          prefixes=["ab", "ab_c"])) == ["ab_c", "ab"]
    with pytest.raises(ValueError, match="sep"):
        groups_from_feature_names(names, sep="")


def _categorical_data(n=300, seed=0):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "color": rng.choice(["red", "green", "blue", "light_grey"], n),
        "shape": rng.choice(["round", "square"], n),
        "noise_var": rng.choice(list("abcde"), n),
        "age": rng.standard_normal(n),
    })
    effect = {"red": 2.0, "green": -1.0, "blue": 0.5, "light_grey": -1.5}
    y = df["color"].map(effect).to_numpy() + 0.8 * df["age"].to_numpy() \
        + 0.3 * rng.standard_normal(n)
    return df, y


def test_pipeline_onehot_prefix_groups():
    """One-hot dummies of each variable become one group, from the encoder's names."""
    df, y = _categorical_data()
    pre = ColumnTransformer([
        ("cat", OneHotEncoder(sparse_output=False), ["color", "shape", "noise_var"]),
        ("num", StandardScaler(), ["age"]),
    ]).set_output(transform="pandas")
    groups = functools.partial(groups_from_feature_names,
                               prefixes=["color", "shape", "noise_var"])
    pipe = make_pipeline(pre, GroupLassoRegressor(groups=groups, alpha=0.05)).fit(df, y)
    reg = pipe[-1]
    names = list(pipe[0].get_feature_names_out())
    labels = reg.group_labels_
    assert set(labels) == {"color", "shape", "noise_var", "num__age"}
    color = reg.groups_[labels.index("color")]
    assert sorted(names[j] for j in color) == sorted(
        f"cat__color_{v}" for v in ["red", "green", "blue", "light_grey"])
    # whole groups in or out: color and age in, the noise variables out
    assert {labels[g] for g in reg.active_groups_} == {"color", "num__age"}
    assert np.all(reg.coef_[reg.groups_[labels.index("noise_var")]] == 0)
    # groups="prefix" (default rule) gives the same groups here except the underscore
    # inside 'noise_var', which the explicit prefixes handle
    pipe2 = make_pipeline(pre, GroupLassoRegressor(groups="prefix", alpha=0.05)).fit(df, y)
    assert "cat__color" in pipe2[-1].group_labels_ and "cat__noise" in pipe2[-1].group_labels_
    assert_allclose(pipe2[-1].coef_[color], reg.coef_[color], atol=1e-8)


@pytest.mark.parametrize("form", ["int array", "float array with NaN", "str array",
                                  "int list", "float list with NaN"])
def test_labels_in_numpy_passes_equal_the_loop(monkeypatch, form):
    """Label vectors are grouped in a few NumPy passes; groups, their order (of first
    appearance), the labels (Python scalars) and the unpenalised features (NaN) are
    those of the per-feature loop."""
    from sklearn_normpen import _groups
    rng = np.random.default_rng(5)
    p = 57
    raw = rng.integers(0, 6, p)
    labels = {"int array": raw - 2,
              "float array with NaN": np.where(raw == 5, np.nan, raw * 0.5),
              "str array": np.array(["u", "b", "zz", "a", "b2", "q"])[raw],
              "int list": (raw * 3).tolist(),
              "float list with NaN": [float("nan") if v == 0 else float(v) for v in raw]}[form]
    fast = parse_groups(labels, p)
    monkeypatch.setattr(_groups, "_labels_fast", lambda arr: None)
    loop = parse_groups(list(labels), p)
    assert _as_lists(fast) == _as_lists(loop)
    assert fast.labels == loop.labels
    assert [type(v) for v in fast.labels] == [type(v) for v in loop.labels]
    assert list(fast.unpenalised) == list(loop.unpenalised)
    assert len(fast.groups) == len(set(fast.labels))


@pytest.mark.parametrize("form", ["lists", "tuples and ranges", "arrays", "dict", "labels",
                                  "None"])
def test_flat_partition_equals_the_group_list(monkeypatch, form):
    """The structure's two representations (``flat`` + ``sizes``, built by the parsers,
    and the per-group list, made on first use) agree with the per-group loop's, in every
    input form; the kernels' arrays are the groups then the unpenalised singletons; the
    structure survives pickling before its list exists."""
    import pickle
    from sklearn_normpen import _groups
    rng = np.random.default_rng(2)
    p = 40
    perm = rng.permutation(p)[:33]  # 7 features in no group
    parts = np.split(perm, [3, 4, 9, 17, 20, 28])
    groups = {"lists": [g.tolist() for g in parts],
              "tuples and ranges": [tuple(g.tolist()) for g in parts[:-1]] + [range(0, 0)],
              "arrays": parts,
              "dict": {f"g{k}": g.tolist() for k, g in enumerate(parts)},
              "labels": np.full(p, np.nan),  # (NaN: in no group)
              "None": None}[form]
    if form == "tuples and ranges":
        with pytest.raises(ValueError, match="empty"):
            parse_groups(groups, p)
        groups = groups[:-1] + [range(int(parts[-1][0]), int(parts[-1][0]) + 1)]
    if form == "labels":
        for k, g in enumerate(parts):
            groups[g] = k
    fast = parse_groups(groups, p)
    state = pickle.loads(pickle.dumps(fast))  # (before the list is made)
    monkeypatch.setattr(_groups, "_index_lists_fast", lambda items, n: None)
    monkeypatch.setattr(_groups, "_labels_fast", lambda arr: None)
    loop = parse_groups(list(groups) if isinstance(groups, np.ndarray) else groups, p)
    for s in (fast, state):
        assert _as_lists(s) == _as_lists(loop)
        assert s.labels == loop.labels
        assert list(s.unpenalised) == list(loop.unpenalised)
        np.testing.assert_array_equal(s.sizes, [len(g) for g in loop.groups])
        np.testing.assert_array_equal(s.flat, np.concatenate(loop.groups))
        gptr, gidx, c = s.kernel_arrays(np.arange(1.0, len(loop.groups) + 1))
        blocks = list(loop.groups) + [[j] for j in loop.unpenalised]
        np.testing.assert_array_equal(gidx, np.concatenate(blocks))
        np.testing.assert_array_equal(np.diff(gptr), [len(b) for b in blocks])
        np.testing.assert_array_equal(c[len(loop.groups):], 0)
    with pytest.raises(AttributeError):
        fast.no_such_attribute  # noqa: B018
