"""The in-image side of jupyter-ide's sandbox: language runner kernel and capped IPython kernel.

Inside the images this package is importable as ``ide_runner``; it imports only the standard
library and ipykernel (never ``jupyter_ide``).
"""
