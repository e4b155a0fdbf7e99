"""Build hook for the one compiled module: the aligner's inner loops (src/newstrace/reuse/_kernels.c).

Everything else is in pyproject.toml. The extension is optional: where no C compiler is at hand the install still
succeeds and newstrace runs the Python reference of each loop, which gives the same results, only slower.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("newstrace.reuse._kernels", ["src/newstrace/reuse/_kernels.c"], optional=True)])
