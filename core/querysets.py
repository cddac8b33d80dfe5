"""One base for tenant scoping: every model that belongs to a workspace reads through a
`WorkspaceQuerySet`, so `Model.objects.for_workspace(ws)` is written once (as PostHog's
`RootTeamQuerySet` is) and a missing or mistyped filter in one copy cannot leak another
workspace's rows. tests/core/test_querysets.py checks that every model with a `workspace` foreign
key has one, and that it scopes.

The core imports no app, so the workspace is typed as any model instance (or its id): Django's
`filter(workspace=...)` takes either.
"""

from typing import Self

from django.db import models


class WorkspaceQuerySet(models.QuerySet):
    # The lookup that leads to the workspace: a model that reaches it through another row
    # (SourceActivity through its source) names the path, e.g. "source__workspace".
    workspace_field = "workspace"

    def for_workspace(self, workspace: models.Model | int) -> Self:
        return self.filter(**{self.workspace_field: workspace})
