"""manage.py outcomes load NAME FILE / outcomes score NAME."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from monitoring.models import Outcome, OutcomeRevision, SkillScore
from releases.models import AuditEvent, Release
from tests.skill.factories import outcome_rows, release_with_forecasts

pytestmark = pytest.mark.django_db


def outcomes(*args: str) -> str:
    out = io.StringIO()
    call_command("outcomes", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_it_loads_a_file_as_one_revision_and_scores_on_demand(registered, tmp_path, suffix):
    release_with_forecasts(Release.objects.get(repository=registered, version="1.0.0"))
    table = pa.Table.from_pylist(outcome_rows(range(540, 542)))
    path = tmp_path / f"ucdp{suffix}"
    (pacsv.write_csv if suffix == ".csv" else pq.write_table)(table, path)
    out = outcomes("load", "pipeline", str(path), "--note", "UCDP 25.1")
    revision = OutcomeRevision.objects.get()
    assert f"revision {revision.pk}: 12 outcomes, 12 new or changed" in out
    assert revision.source == "command" and revision.note == "UCDP 25.1"
    assert AuditEvent.objects.get(action="outcomes.recorded").actor_name == "manage.py outcomes"
    assert Outcome.objects.count() == 12
    assert "4 ledger rows scored from 2 forecast files" in outcomes("score", "pipeline")
    assert SkillScore.objects.count() == 4


def test_it_names_a_missing_column_and_a_missing_repository(registered, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("unit,month_id,value\n1,540,2\n")
    with pytest.raises(CommandError, match="lacks column"):
        outcomes("load", "pipeline", str(path))
    with pytest.raises(CommandError, match="no repository"):
        outcomes("score", "nowhere")
    assert not OutcomeRevision.objects.exists()


def test_demo_publish_refuses_a_repository_other_than_the_demo(registered):
    with pytest.raises(CommandError, match="demo repository"):
        outcomes("demo-publish", "pipeline")
    assert not OutcomeRevision.objects.exists()
