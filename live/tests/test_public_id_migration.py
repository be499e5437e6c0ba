"""The migration that adds the public id fills one in for every existing stream and keeps each
stream's key (OBS settings that worked before still name the same secret)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("live", "0002_initial")]
AFTER = [("live", "0004_public_id_unique")]


@pytest.mark.django_db(transaction=True)
def test_existing_streams_get_distinct_public_ids_and_keep_their_keys():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(BEFORE)
        old_apps = executor.loader.project_state(BEFORE).apps
        OldStream = old_apps.get_model("live", "LiveStream")
        keys = [f"{i:032x}" for i in range(1, 6)]
        for key in keys:
            OldStream.objects.create(title=f"방송 {key[-1]}", stream_key=key)

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new_apps = executor.loader.project_state(AFTER).apps
        rows = list(
            new_apps.get_model("live", "LiveStream").objects.values_list("publish_key", "public_id")
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(leaves)

    assert sorted(key for key, _pid in rows) == keys
    public_ids = [pid for _key, pid in rows]
    assert len(set(public_ids)) == len(keys)
    assert all(re.fullmatch(r"[a-z2-9]{12}", pid) for pid in public_ids)
