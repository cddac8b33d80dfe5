"""Mutants in windsor/: named breaks of its promises (see mutants/__main__.py)."""

from mutants.catalog import Mutant, mutant

MUTANTS: list[Mutant] = [
    mutant(
        "proxy-count-trusted-by-default",
        "with no WINDSOR_PROXY_COUNT a deployment ignores X-Forwarded-For (rotating it gets 429)",
        "windsor/settings.py",
        'WINDSOR_PROXY_COUNT = int(os.environ.get("WINDSOR_PROXY_COUNT", "0"))',
        'WINDSOR_PROXY_COUNT = int(os.environ.get("WINDSOR_PROXY_COUNT", '
        '"1" if SECURE_PROXY_SSL_HEADER else "0"))',
        "tests/accounts/test_login.py",
        "tests/windsor/test_settings.py",
    ),
]
