"""Mutants in windsor/: named breaks of its promises (see mutants/__main__.py)."""

from mutants.catalog import Mutant, mutant

MUTANTS: list[Mutant] = [
    mutant(
        "proxy-count-trusted-by-default",
        "with no WINDSOR_PROXY_COUNT a deployment ignores X-Forwarded-For (rotating it gets 429)",
        "windsor/settings.py",
        'WINDSOR_PROXY_COUNT = env.int("WINDSOR_PROXY_COUNT", default=0)',
        'WINDSOR_PROXY_COUNT = env.int("WINDSOR_PROXY_COUNT", '
        "default=1 if SECURE_PROXY_SSL_HEADER else 0)",
        "tests/accounts/test_login.py",
        "tests/windsor/test_settings.py",
    ),
    mutant(
        "settings-dollar-proxied",
        "a value starting with $ (a secret key may) is read as written, not as another variable's"
        " name",
        "windsor/settings.py",
        r'env.ENVIRON = {name: value.replace("$", r"\$") for name, value in os.environ.items()}',
        "env.ENVIRON = dict(os.environ)",
        "tests/windsor/test_settings.py::test_a_value_starting_with_a_dollar_is_read_as_written",
    ),
]
