"""gunicorn reads this file from the directory it starts in (the repository root).

Its logger redacts source tokens from logged paths (/hook/<token>): see windsor/log_filters.py.
"""

logger_class = "windsor.log_filters.RedactingGunicornLogger"
