"""`python -m jupyter_ide.service`: the same as `jupyter ide service`."""

from .app import main

main()
