"""What a promotion changes in the repository's files: the compare page reads it from the
cache clone (a real git repository here)."""

import pytest
from django.urls import reverse

from monitoring.code_changes import code_changes
from releases import git, sync
from releases.models import Branch, Release
from tests.promotion.factories import make_candidate

pytestmark = pytest.mark.django_db

HYPER_BEFORE = 'hyperparameters = {\n    "steps": 36,\n    "n_estimators": 200,\n}\n'
HYPER_AFTER = 'hyperparameters = {\n    "steps": 36,\n    "n_estimators": 400,\n}\n'


@pytest.fixture
def changed(world, registered, users):
    """production has purple_alien as a shadow model; development retunes it and deploys it."""
    world.checkout("production")
    world.commit(
        "feat(models): purple_alien configs",
        files={
            "models/purple_alien/configs/config_hyperparameters.py": HYPER_BEFORE,
            "models/purple_alien/configs/config_deployment.py": 'deployment_status = "shadow"\n',
        },
    )
    world.checkout("development")
    world.git("merge", "--quiet", "--no-ff", "-m", "Merge production", "production")
    world.commit(
        "feat(models): deploy purple_alien with more trees",
        files={
            "models/purple_alien/configs/config_hyperparameters.py": HYPER_AFTER,
            "models/purple_alien/configs/config_deployment.py": 'deployment_status = "deployed"\n',
            "ensembles/cool_ensemble/configs/config_meta.py": 'name = "cool_ensemble"\n',
        },
    )
    world.push_all()
    sync.repository_sync(repository=registered, actor="test")
    heads = dict(Branch.objects.filter(repository=registered).values_list("name", "head"))
    return registered, heads["production"], heads["development"]


def test_it_lists_files_models_config_diffs_and_status_changes(changed):
    repository, production, development = changed
    found = code_changes(repository=repository, base=production, tip=development)
    assert found.error == ""
    paths = {f.path for f in found.files}
    assert "models/purple_alien/configs/config_hyperparameters.py" in paths
    assert "models/purple_alien/a.py" in paths  # development's earlier work comes too
    assert found.units == ["ensembles/cool_ensemble", "models/purple_alien"]
    hyper = found.configs[0]
    assert hyper.hyperparameters
    assert '-    "n_estimators": 200,' in hyper.lines and '+    "n_estimators": 400,' in hyper.lines
    assert [(c.model, c.before, c.after) for c in found.statuses] == [
        ("purple_alien", "shadow", "deployed")
    ]


def test_the_compare_page_shows_them_for_a_candidate(changed, login):
    repository, production, development = changed
    Release.objects.filter(repository=repository, version="1.0.0").update(commit=production)
    candidate = make_candidate()
    html = (
        login("viewer")
        .get(reverse("candidate_compare", args=["pipeline", "1.0.0", candidate.pk]))
        .content.decode()
    )
    diffstat = html[html.index('data-testid="diffstat"') :]
    assert "models/purple_alien" in diffstat[:600] and "ensembles/cool_ensemble" in diffstat[:600]
    assert "purple_alien</span>: shadow → <b>deployed</b>" in html
    assert '<span class="add">+    &quot;n_estimators&quot;: 400,</span>' in html
    assert 'data-path="models/purple_alien/configs/config_hyperparameters.py"' in html


def test_the_answer_for_two_commits_is_read_from_git_once(changed, monkeypatch):
    """Two commits never change: the compare page's second view runs no git (the reads
    were ~20 git calls, most of that page's server time)."""
    repository, production, development = changed
    calls = []
    run = git.GitRepo.run
    monkeypatch.setattr(
        git.GitRepo, "run", lambda self, *a, **k: calls.append(a) or run(self, *a, **k)
    )
    first = code_changes(repository=repository, base=production, tip=development)
    assert first.error == "" and first.files and calls
    calls.clear()
    assert code_changes(repository=repository, base=production, tip=development) is first
    assert calls == []
    # The answer is per pair of commits: another pair is read.
    assert code_changes(repository=repository, base=development, tip=production) is not first
    assert calls
