"""Scheduled backups: verified dumps to a directory or an S3 bucket (moto server), retention,
`run_job`, and the restore drill of docs/operations.md."""

import io
import pickle
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from moto.server import ThreadedMotoServer

from dorami import backups
from dorami.celery import BEAT_SCHEDULE
from dorami.tests.test_ops import _free_port, _manage
from dorami.tests.test_ops import scratch_database as scratch_database  # a fixture
from orders.tests.factories import make_order, make_variant

OLD = "dorami-shop-20200101-000000.dump"


@pytest.fixture
def fake_s3(settings):
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    settings.BACKUP_S3_ENDPOINT_URL = f"http://127.0.0.1:{port}"
    settings.BACKUP_S3_REGION = "us-east-1"
    settings.BACKUP_S3_ACCESS_KEY_ID = "test-key"
    settings.BACKUP_S3_SECRET_ACCESS_KEY = "test-secret"
    client = backups.s3_client()
    client.create_bucket(Bucket="shop-backups")
    try:
        yield client
    finally:
        server.stop()


def _keys(client) -> list[str]:
    listing = client.list_objects_v2(Bucket="shop-backups")
    return sorted(obj["Key"] for obj in listing.get("Contents", []))


def test_backup_to_a_directory_is_verified_and_prunes_only_old_own_files(db, tmp_path):
    (tmp_path / OLD).write_bytes(b"old")
    (tmp_path / "dorami-shop-29990101-000000.dump").write_bytes(b"future")
    (tmp_path / "notes.txt").write_text("not a backup")
    out = io.StringIO()

    call_command("backup", "--to", str(tmp_path), "--keep-days", "7", stdout=out, stderr=out)

    names = sorted(p.name for p in tmp_path.iterdir())
    assert OLD not in names and "notes.txt" in names and "dorami-shop-29990101-000000.dump" in names
    (new,) = [n for n in names if n.startswith(f"dorami-{connection.settings_dict['NAME']}-")]
    assert (tmp_path / new).read_bytes().startswith(b"PGDMP")
    assert "pg_restore --list:" in out.getvalue() and "1 old backups pruned" in out.getvalue()
    assert backups.backup_verify(path=tmp_path / new).startswith("pg_restore --list")


def test_verify_refuses_a_truncated_dump(db, tmp_path):
    result = backups.backup_run(destination=str(tmp_path), keep_days=0)
    whole = tmp_path / result.location.rsplit("/", 1)[1]
    cut = tmp_path / "cut.dump"
    cut.write_bytes(whole.read_bytes()[:200])
    with pytest.raises(backups.BackupError, match="pg_restore --list failed"):
        backups.backup_verify(path=cut)
    (tmp_path / "x.dump").write_text("hello")
    with pytest.raises(backups.BackupError, match="not a backup"):
        backups.backup_verify(path=tmp_path / "x.dump")


def test_daily_job_uploads_to_s3_and_keeps_n_days(db, settings, fake_s3):
    settings.BACKUP_DESTINATION = "s3://shop-backups/nightly"
    settings.BACKUP_KEEP_DAYS = 3
    fake_s3.put_object(Bucket="shop-backups", Key=f"nightly/{OLD}", Body=b"old")
    fake_s3.put_object(Bucket="shop-backups", Key=f"elsewhere/{OLD}", Body=b"other prefix")
    out = io.StringIO()

    call_command("run_job", "database-backup-daily", stdout=out)

    keys = _keys(fake_s3)
    assert f"nightly/{OLD}" not in keys and f"elsewhere/{OLD}" in keys
    (new,) = [k for k in keys if k.startswith("nightly/")]
    body = fake_s3.get_object(Bucket="shop-backups", Key=new)["Body"].read()
    assert body.startswith(b"PGDMP")
    assert f"s3://shop-backups/{new}" in out.getvalue()


def test_backup_to_an_unreachable_bucket_fails_clearly(db, settings, fake_s3):
    with pytest.raises(CommandError, match="upload to s3://no-such-bucket/"):
        call_command("backup", "--to", "s3://no-such-bucket", stderr=io.StringIO())


def test_daily_job_without_a_destination_fails_loudly(db, settings):
    settings.BACKUP_DESTINATION = ""
    with pytest.raises(CommandError, match="BACKUP_DESTINATION"):
        call_command("run_job", "database-backup-daily", stdout=io.StringIO())


@pytest.mark.parametrize(("zone", "utc_hour"), [("Asia/Seoul", 19), ("America/Los_Angeles", 12)])
def test_backup_job_runs_daily_on_the_store_clock(settings, zone, utc_hour):
    settings.STORE_TIME_ZONE = zone
    entry = BEAT_SCHEDULE["database-backup-daily"]
    assert entry["task"] == "dorami.tasks.backup_daily"
    # beat keeps the schedule in a shelve file: it must survive pickling
    schedule = pickle.loads(pickle.dumps(entry["schedule"]))  # noqa: S301
    # the run after 2026-12-01 noon UTC is 04:30 on the store's clock, not 04:30 UTC
    last_run, delta, _now = schedule.remaining_delta(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    next_run = (last_run + delta).astimezone(UTC)
    assert (next_run.hour, next_run.minute) == (utc_hour, 30)


def test_run_job_lists_the_one_table_and_runs_a_job(db):
    out = io.StringIO()
    call_command("run_job", "--list", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == list(BEAT_SCHEDULE)
    assert any("every 60 s" in line and "dorami.tasks.heartbeat" in line for line in lines)
    assert any("(store time)" in line for line in lines)
    out = io.StringIO()
    call_command("run_job", "health-heartbeat", stdout=out)
    assert "health-heartbeat done" in out.getvalue()
    with pytest.raises(CommandError, match="No job 'nope'"):
        call_command("run_job", "nope")


def _row_counts(connect) -> dict[str, int]:
    with connect() as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        count = 'SELECT count(*) FROM "{}"'.format  # names from pg_tables, not from input
        return {t: conn.execute(count(t)).fetchone()[0] for t in tables}


def test_restore_drill_into_a_fresh_database_keeps_every_row(
    transactional_db, shopper, tmp_path, scratch_database
):
    # given a shop with orders, backed up the way the daily job does it
    for price in ("10.00", "22.50"):
        make_order(user=shopper, items=[(make_variant(price=price), 2)])
    result = backups.backup_run(destination=str(tmp_path), keep_days=0)
    dump = tmp_path / result.location.rsplit("/", 1)[1]
    # when it is restored into a fresh, empty database (docs/operations.md, restore drill)
    url, connect_fresh = scratch_database
    restored = _manage("restore", str(dump), "--yes", env={"DATABASE_URL": url})
    assert restored.returncode == 0, restored.stderr

    # then every table has the same number of rows
    import psycopg

    live = connection.settings_dict

    def connect_live():
        return psycopg.connect(
            dbname=live["NAME"],
            host=live["HOST"],
            port=live["PORT"],
            user=live["USER"],
            password=live["PASSWORD"],
            autocommit=True,
        )

    before, after = _row_counts(connect_live), _row_counts(connect_fresh)
    assert before["orders_order"] == 2 and before["orders_orderitem"] == 2
    assert after == before
