"""The mutation check: named breaks of Windsor's promises and the runner that applies them
(`python -m mutants`; see mutants/__main__.py)."""
