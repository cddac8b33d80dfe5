"""Mutants in api/: named breaks of its promises (see mutants/__main__.py)."""

from mutants.catalog import Mutant, mutant
from mutants.guards import API_AUTH, API_ENDPOINTS, API_OTHER, API_SEGMENTS, ISOLATION, TEAM

MUTANTS: list[Mutant] = [
    # --- Read API ---------------------------------------------------------------------------------
    mutant(
        "api-group-unscoped",
        "a key (or session) reads only its own workspace's groups, not another's by id",
        "api/selectors.py",
        'Group.objects.for_workspace(workspace).defer("trait_versions").filter(pk=group_id)',
        'Group.objects.defer("trait_versions").filter(pk=group_id)',
        API_OTHER,
        ISOLATION,
    ),
    mutant(
        "api-session-over-key",
        "a request with a key reads the key's workspace, whatever session rides along",
        "api/views.py",
        "authentication_classes = [ApiKeyAuthentication, WorkspaceSessionAuthentication]",
        "authentication_classes = [WorkspaceSessionAuthentication, ApiKeyAuthentication]",
        API_ENDPOINTS,
    ),
    mutant(
        "api-revoked-key-accepted",
        "a revoked API key is refused at once",
        "api/services.py",
        " or not key.is_active:",
        ":",
        API_AUTH,
        "tests/api/test_keys_page.py",
    ),
    Mutant(
        name="api-key-hash-from-prefix",
        promise="an API key is found by the digest of the whole key, not its visible prefix",
        path="api/services.py",
        edits=(
            (
                ".filter(key_hash=secret_digest(secret))",
                ".filter(prefix=secret[:12])",
            ),
            ("if key is None or not secret_matches(secret, key.key_hash) or", "if key is None or"),
        ),
        tests=(API_AUTH,),
    ),
    mutant(
        "api-write-allowed",
        "the Read API refuses every write method, for keys and sessions",
        "api/permissions.py",
        "if request.method not in permissions.SAFE_METHODS:",
        "if False:",
        API_AUTH,
    ),
    mutant(
        "api-last-used-every-request",
        "a key's last use is written at most once a minute, not on every request",
        "api/services.py",
        "if last is not None and now - last < LAST_USED_RESOLUTION:",
        "if False:",
        API_ENDPOINTS,
        "tests/api/test_queries.py",
    ),
    # --- Segments on the Read API -------------------------------------------------------------
    mutant(
        "api-segment-other-workspace",
        "a key reads only its own workspace's segments: another's is not found, by id or list",
        "api/selectors.py",
        "return segments_visible(workspace, viewer).filter(pk=segment_id).first()",
        "return Segment.objects.filter(pk=segment_id).select_related('created_by').first()",
        API_SEGMENTS,
        ISOLATION,
    ),
    mutant(
        "api-segment-private-shared",
        "a private segment is read only with its maker's key, not another member's",
        "api/selectors.py",
        "        segments = Segment.objects.visible_to(viewer)",
        "        segments = Segment.objects.for_workspace(workspace)",
        API_SEGMENTS,
    ),
    mutant(
        "api-filter-ignored",
        "/api/v1/people/?filter= selects only the people the filter matches",
        "api/selectors.py",
        'text = params.get("filter") or ""',
        'text = ""',
        API_SEGMENTS,
    ),
    # --- members: removing or demoting a member reaches what they hold; invitation limits ------
    mutant(
        "api-key-creator-unchecked",
        "an API key stops once its creator is no owner or admin of its workspace, however it came",
        "api/services.py",
        "    if key.created_by_id is not None and not key.creator_holds:",
        "    if False:",
        API_AUTH,
    ),
    mutant(
        "api-key-creator-any-workspace",
        "an API key's creator must hold a key role in the key's own workspace",
        "api/services.py",
        'user=OuterRef("created_by"), workspace=OuterRef("workspace"), role__in=KEY_ROLES',
        'user=OuterRef("created_by"), role__in=KEY_ROLES',
        API_AUTH,
    ),
    mutant(
        "api-keys-revoked-in-every-workspace",
        "removal revokes the member's keys of that workspace only",
        "api/services.py",
        "    keys = ApiKey.objects.active().filter(workspace_id=workspace_id, "
        "created_by_id=user_id)\n    held = [",
        "    keys = ApiKey.objects.active().filter(created_by_id=user_id)\n    held = [",
        TEAM,
    ),
    mutant(
        "api-groups-cursor-unscoped",
        "a cursor of /api/v1/groups/ (page 2, another workspace's) reads only the caller's groups",
        "api/selectors.py",
        '    groups = Group.objects.for_workspace(workspace).defer("trait_versions")\n',
        "    groups = (\n"
        "        Group.objects.all() if after or before\n"
        "        else Group.objects.for_workspace(workspace)\n"
        '    ).defer("trait_versions")\n',
        API_OTHER,
    ),
    mutant(
        "api-person-events-reads-identity-rows",
        "the API reads a person's events with their ids as plain numbers, not every identity's row",
        "api/views.py",
        "identity_ids = people_selectors.person_identity_ids(self.workspace, person)",
        "identity_ids = [i.pk for i in people_selectors.person_identities(self.workspace, person)]",
        "tests/api/test_queries.py::"
        "test_a_persons_events_cost_the_same_statements_for_twice_the_ids",
    ),
    mutant(
        "member-keys-unasked",
        "removing or demoting a member revokes the API keys they made (accounts asks api)",
        "api/apps.py",
        '        member_key_kinds.connect(api_keys_kind, dispatch_uid="api.api_keys_kind")\n',
        "        pass\n",
        TEAM,
    ),
]
