"""Benchmarks that run jupyter-ide and its peers side by side in one run."""
