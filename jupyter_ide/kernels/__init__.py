"""Kernels: Docker-sandboxed kernels, warm pool, images and the judge API."""
