"""Build the Cython kernels.

Every ``.pyx`` file under ``src/sklearn_normpen/`` becomes an extension module of the same
dotted name, so adding a kernel is adding a file. Kernels are compiled with bounds and
wraparound checks off (they validate nothing: the Python layer hands them correct arrays).
"""
import os
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).parent
COMPILER_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": False,
    "nonecheck": False,
    "cpow": True,
}
# SKLEARN_NORMPEN_DEBUG=1 keeps bounds checks on (for hunting a kernel bug).
if os.environ.get("SKLEARN_NORMPEN_DEBUG"):
    COMPILER_DIRECTIVES.update(boundscheck=True, wraparound=True, initializedcheck=True)


def _extensions():
    exts = []
    for pyx in sorted(HERE.glob("src/sklearn_normpen/**/*.pyx")):
        rel = pyx.relative_to(HERE)
        name = ".".join(rel.relative_to("src").with_suffix("").parts)
        exts.append(
            Extension(
                name,
                [str(rel)],
                include_dirs=[np.get_include()],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")],
                # loops on 64-byte lines: the kernels' hot loops are a few dozen bytes
                # (a CSC column's dot is 27), and one split across two lines by an
                # unrelated edit ran the sparse lasso path 6-8% slower
                extra_compile_args=["-O3", "-falign-loops=64"],
            )
        )
    return exts


class ParallelBuildExt(build_ext):
    """Compile the extension modules in parallel (one per core) unless ``-j`` says otherwise."""

    def finalize_options(self):
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1


setup(
    cmdclass={"build_ext": ParallelBuildExt},
    ext_modules=cythonize(
        _extensions(),
        compiler_directives=COMPILER_DIRECTIVES,
        nthreads=os.cpu_count() or 1,
    )
)
