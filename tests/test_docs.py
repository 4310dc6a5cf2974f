"""The API reference lists every public name (the Sphinx build itself runs in CI)."""
import importlib
import re
from pathlib import Path

import pytest

import sklearn_normpen

API = Path(__file__).resolve().parent.parent / "doc" / "api.rst"


def _documented():
    """``module.name`` for every autosummary entry of ``doc/api.rst``."""
    names, module = set(), None
    for line in API.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\.\. currentmodule:: (\S+)", line)
        if m:
            module = m.group(1)
        elif re.match(r"^   [A-Za-z_]\w*$", line):
            names.add(f"{module}.{line.strip()}")
    return names


def _public():
    """``{qualname: object}`` of the public API: the package's ``__all__`` and that of its
    public submodules."""
    public = {f"sklearn_normpen.{n}": getattr(sklearn_normpen, n)
              for n in sklearn_normpen.__all__ if n != "__version__"}
    for sub in ("model_selection", "plotting", "selection"):
        try:
            mod = importlib.import_module(f"sklearn_normpen.{sub}")
        except ModuleNotFoundError:
            continue
        public.update({f"sklearn_normpen.{sub}.{n}": getattr(mod, n)
                       for n in getattr(mod, "__all__", [])})
    return public


def _resolve(qualname):
    module, _, name = qualname.rpartition(".")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError:
        pytest.fail(f"doc/api.rst documents {qualname} but {module} does not exist")
    assert hasattr(mod, name), f"doc/api.rst documents {qualname}, which does not exist"
    return getattr(mod, name)


@pytest.mark.skipif(not API.is_file(), reason="doc/ is not part of an installed package")
def test_api_reference_lists_every_public_name():
    # an object re-exported at the top level counts as documented under its home module
    documented = [_resolve(q) for q in _documented()]
    missing = [q for q, obj in _public().items() if not any(obj is d for d in documented)]
    assert not missing, f"add to doc/api.rst: {sorted(missing)}"


@pytest.mark.skipif(not API.is_file(), reason="doc/ is not part of an installed package")
def test_api_reference_names_exist():
    for qualname in sorted(_documented()):
        _resolve(qualname)
