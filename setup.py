"""Package discovery that pyproject.toml alone cannot express: the repository's
``benchmarks/`` and ``scenarios/`` folders install inside the ``ssa`` package (as
``ssa.benchmarks`` and ``ssa.scenarios``), not as top-level packages."""

from setuptools import find_packages, setup

MAPPED = {"ssa.benchmarks": "benchmarks", "ssa.scenarios": "scenarios"}

setup(packages=find_packages(include=["ssa", "ssa.*"]) + list(MAPPED), package_dir=MAPPED)
