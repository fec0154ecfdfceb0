"""The debugger's server side: C and C++ programs under lldb-vscode (DAP) in a sandbox.

Python is debugged through the kernel's own debugger (ipykernel, DAP over the kernel's control
channel), which needs nothing here.
"""
