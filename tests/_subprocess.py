"""Running the package under test in a fresh interpreter (shared by the subprocess tests)."""
import os
from pathlib import Path

import sklearn_normpen


def package_env(**extra):
    """The test's environment with the package under test first on the path — the source
    tree in a development checkout, site-packages when installed — and a headless backend.

    Run the subprocess with a ``cwd`` outside the repository too: ``python -c`` puts the
    working directory first on ``sys.path``, where an unbuilt source tree would shadow the
    installed package.
    """
    env = dict(os.environ, MPLBACKEND="Agg", **extra)
    root = str(Path(sklearn_normpen.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [env.get("PYTHONPATH")] if p])
    return env
