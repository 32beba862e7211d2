"""Tampering by someone who can write the audit table directly (SQL, the trigger switched
off) is found by `audit verify`: an edited event re-hashed from there on, a chain re-hashed
with its MACs stripped, the newest events deleted, a forged anchor file. On PostgreSQL the
application's role cannot switch the trigger off at all."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from releases.audit import audit_record, audit_verify, event_hash
from releases.db_roles import audit_table_risk, grant_app_role
from releases.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def record(n: int) -> None:
    for index in range(n):
        with transaction.atomic():
            audit_record(actor="tester", action="test.event", payload={"index": index})


def raw(sql: str, params: list) -> None:
    """What an attacker with the database's owner role does: switch the append-only
    trigger off (PostgreSQL), write, switch it on again."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Rows referencing events (notification deliveries) leave deferred foreign-key
            # checks pending, which ALTER TABLE refuses to run beside: settle them first.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "ALTER TABLE releases_auditevent DISABLE TRIGGER releases_auditevent_append_only"
            )
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE releases_auditevent ENABLE TRIGGER releases_auditevent_append_only"
            )


def rehash_from(seq: int, *, payload: dict, strip_macs: bool = False) -> None:
    """Edit event `seq` and re-hash it and every later event, as the chain's code would."""
    events = list(AuditEvent.objects.order_by("seq"))
    prev = events[seq - 2].hash if seq > 1 else "0" * 64
    for event in events[seq - 1 :]:
        if event.seq == seq:
            event.payload = payload
        event.prev_hash = prev
        event.hash = event_hash(event)
        prev = event.hash
    for event in events if strip_macs else events[seq - 1 :]:
        raw(
            "UPDATE releases_auditevent SET payload = %s, prev_hash = %s, hash = %s, mac = %s "
            "WHERE seq = %s",
            [
                json.dumps(event.payload),
                event.prev_hash,
                event.hash,
                "" if strip_macs else event.mac,
                event.seq,
            ],
        )


def test_an_intact_chain_is_anchored_outside_the_database(settings):
    record(4)
    verdict = audit_verify()
    assert verdict.ok and verdict.checked == 4 and verdict.anchors == 4
    lines = settings.EWSDASH_AUDIT_ANCHOR_FILE.read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3, 4]


def test_an_edit_re_hashed_from_there_on_is_found_by_its_mac():
    record(5)
    rehash_from(3, payload={"index": 99})
    verdict = audit_verify()
    assert not verdict.ok and verdict.bad_seq == 3
    assert "MAC is wrong" in verdict.message
    with pytest.raises(CommandError, match="event #3"):
        call_command("audit", "verify")


def test_a_whole_chain_re_hashed_without_macs_is_found_by_its_anchors():
    record(5)
    rehash_from(3, payload={"index": 99}, strip_macs=True)
    verdict = audit_verify()
    assert not verdict.ok and verdict.bad_seq == 3
    assert "differs from its anchor" in verdict.message


def test_deleting_the_newest_events_is_found():
    record(5)
    raw("DELETE FROM releases_auditevent WHERE seq >= %s", [4])
    verdict = audit_verify()
    assert not verdict.ok
    assert "#4–#5 are anchored but missing" in verdict.message


def test_a_forged_anchor_file_is_refused(settings):
    record(3)
    path = settings.EWSDASH_AUDIT_ANCHOR_FILE
    lines = path.read_text().splitlines()
    forged = json.loads(lines[-1]) | {"seq": 9}
    path.write_text("\n".join([*lines, json.dumps(forged)]) + "\n")
    verdict = audit_verify()
    assert not verdict.ok and "wrong MAC" in verdict.message


def test_events_written_with_another_key_are_refused(settings):
    record(2)
    settings.EWSDASH_AUDIT_KEY = "another-key-" + "x" * 40
    verdict = audit_verify()
    assert not verdict.ok


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="roles are PostgreSQL's")
def test_the_application_role_cannot_switch_the_guard_off_or_delete():
    role = f"{connection.settings_dict['NAME']}_app"[:63]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE ROLE {connection.ops.quote_name(role)} NOLOGIN")
    grant_app_role(connection, role)
    record(2)
    assert audit_table_risk(connection) is not None  # the suite itself runs as a superuser

    def as_app(sql: str) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(role)}")
            cursor.execute(sql)

    with pytest.raises(DatabaseError, match="must be owner"):
        as_app("ALTER TABLE releases_auditevent DISABLE TRIGGER releases_auditevent_append_only")
    with pytest.raises(DatabaseError, match="permission denied"):
        as_app("DELETE FROM releases_auditevent")
    with pytest.raises(DatabaseError, match="permission denied"):
        as_app("UPDATE releases_auditevent SET action = 'x'")
    # It still appends, and reads and writes the other tables.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(role)}")
            cursor.execute("SELECT count(*) FROM releases_repository")
            audit_record(actor="app", action="test.as_app")
            assert audit_table_risk(connection) is None
    assert audit_verify().ok and audit_verify().checked == 3
