"""A Judge0 CE compatible compile-and-run API on the sandbox images (issue #4)."""
