"""Reference data shipped with latticebench (see README.md in this folder)."""
