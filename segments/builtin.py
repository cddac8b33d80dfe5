"""The segments every workspace starts with, team-visible and made by no one (Intercom's New /
Active / Slipping away). `builtin_segments_ensure` makes the missing ones: a workspace gets them
when it is created (segments.apps connects it to Workspace's post_save) and the workspaces of
before segments got them from migration 0002.

What each one means, in the filter's own words:
- New this week: first seen within the last 7 days.
- Active in the last 7 days: last seen within the last 7 days.
- Slipping away: last seen more than 14 days ago AND within the last 90 days. "Active before" is
  read as "seen in the 90 days before": someone last seen a year ago has gone, not slipping, and
  someone never seen (a person only imported) was never active (neither condition matches them:
  "more than 14 days ago" on last seen means seen, and before that).
"""

from typing import Any

BUILTINS: dict[str, dict[str, Any]] = {
    "new_this_week": {
        "name": "New this week",
        "description": "First seen in the last 7 days.",
        "filter": {
            "op": "and",
            "conditions": [{"field": "first_seen", "operator": "within_days", "value": 7}],
        },
    },
    "active_last_7_days": {
        "name": "Active in the last 7 days",
        "description": "Last seen in the last 7 days.",
        "filter": {
            "op": "and",
            "conditions": [{"field": "last_seen", "operator": "within_days", "value": 7}],
        },
    },
    "slipping_away": {
        "name": "Slipping away",
        "description": "Active in the last 90 days, but not seen in the last 14.",
        "filter": {
            "op": "and",
            "conditions": [
                {"field": "last_seen", "operator": "not_within_days", "value": 14},
                {"field": "last_seen", "operator": "within_days", "value": 90},
            ],
        },
    },
}
