"""Build hook for the two compiled modules: the reuse stage's inner loops (src/newstrace/reuse/_kernels.c) and the
JSON string literals of articles.jsonl (src/newstrace/_json_kernel.c).

Everything else is in pyproject.toml. Both extensions are optional: where no C compiler is at hand the install
still succeeds and newstrace runs the Python reference of each function, which gives the same results, only slower.
"""

from setuptools import Extension, setup

setup(ext_modules=[
    Extension("newstrace.reuse._kernels", ["src/newstrace/reuse/_kernels.c"], optional=True),
    Extension("newstrace._json_kernel", ["src/newstrace/_json_kernel.c"], optional=True),
])
