"""SystemConfig, Notice and AuditLog moved from adminpanel to core: the rows already stored and
the permissions already granted on them survive the migration."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("core", None), ("adminpanel", "0003_korean_field_labels")]
AFTER = [("core", "0001_initial"), ("adminpanel", "0004_models_moved_to_core")]


@pytest.mark.django_db(transaction=True)
def test_rows_and_permissions_survive_the_move():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE[1:]).apps
        old.get_model("adminpanel", "SystemConfig").objects.create(
            pk=1, shipping_fee_ca=Decimal("7.77")
        )
        old.get_model("adminpanel", "Notice").objects.create(title="배송 안내")
        old.get_model("adminpanel", "AuditLog").objects.create(action="x", object_type="t")
        content_type = old.get_model("contenttypes", "ContentType").objects.get_or_create(
            app_label="adminpanel", model="systemconfig"
        )[0]
        permission = old.get_model("auth", "Permission").objects.get_or_create(
            content_type=content_type, codename="change_systemconfig", defaults={"name": "change"}
        )[0]
        old.get_model("auth", "Group").objects.create(name="운영").permissions.add(permission)

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        fee = new.get_model("core", "SystemConfig").objects.get(pk=1).shipping_fee_ca
        notices = list(new.get_model("core", "Notice").objects.values_list("title", flat=True))
        audit_rows = new.get_model("core", "AuditLog").objects.count()
        granted = list(
            new.get_model("auth", "Group")
            .objects.get(name="운영")
            .permissions.values_list("content_type__app_label", "codename")
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(leaves)

    assert fee == Decimal("7.77")
    assert notices == ["배송 안내"]
    assert audit_rows == 1
    assert granted == [("core", "change_systemconfig")]
