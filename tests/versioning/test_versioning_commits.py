import pytest

from releases.versioning import (
    cherry_picked_from,
    classify,
    looks_like_merge,
    parse_commit_message,
)


@pytest.mark.parametrize(
    ("subject", "type_", "scope", "breaking", "description"),
    [
        ("feat: add CRPS to the metrics page", "feat", None, False, "add CRPS to the metrics page"),
        ("fix(drift): handle empty reference", "fix", "drift", False, "handle empty reference"),
        ("feat!: drop the v1 format", "feat", None, True, "drop the v1 format"),
        ("feat(api)!: rename month_id", "feat", "api", True, "rename month_id"),
        ("perf(models/lr_ged_sb): vectorise", "perf", "models/lr_ged_sb", False, "vectorise"),
        ("Feat: capitalised type", "feat", None, False, "capitalised type"),
        ("docs:   extra spaces", "docs", None, False, "extra spaces"),
        ("fix(): empty scope", "fix", None, False, "empty scope"),
        ("chore(deps): bump numpy to 2.1", "chore", "deps", False, "bump numpy to 2.1"),
        ("  fix: leading whitespace  ", "fix", None, False, "leading whitespace"),
    ],
)
def test_conventional_subjects(
    subject: str, type_: str, scope: str | None, breaking: bool, description: str
) -> None:
    commit = parse_commit_message(subject, "")
    assert commit.is_conventional
    assert (commit.type, commit.scope, commit.breaking, commit.description) == (
        type_,
        scope,
        breaking,
        description,
    )
    assert not commit.is_merge


@pytest.mark.parametrize(
    "subject",
    [
        "Add CRPS to the metrics page",
        "fix:no space after colon",
        "fix: ",
        "fix",
        "feat(scope: unbalanced",
        "fixup! fix: typo",
        "http://example.org is down",
        "",
        "修复: 中文类型",
    ],
)
def test_non_conventional_subjects(subject: str) -> None:
    commit = parse_commit_message(subject, "")
    assert not commit.is_conventional
    assert commit.type is None and commit.scope is None
    assert not commit.breaking
    assert commit.description == commit.subject


def test_breaking_footer_in_body_only() -> None:
    body = "Predictions now use List<float32>.\n\nBREAKING CHANGE: readers must upgrade\n"
    commit = parse_commit_message("feat(io): posterior draws as lists", body)
    assert commit.breaking and commit.type == "feat"
    assert parse_commit_message("refactor: io", "x\n\nBREAKING-CHANGE: gone").breaking
    assert parse_commit_message("refactor: io", "x\r\nBREAKING CHANGE:\r\n  gone").breaking


def test_breaking_footer_on_a_non_conventional_subject_counts() -> None:
    commit = parse_commit_message("Rework storage", "BREAKING CHANGE: new layout")
    assert commit.breaking and not commit.is_conventional


@pytest.mark.parametrize(
    "body",
    [
        "breaking change: lowercase is not the footer token",
        "This is not a BREAKING CHANGE: mid-line",
        "BREAKING CHANGES: plural is another token",
        "  BREAKING CHANGE: indented text is quoted, not a footer",
        "BREAKING CHANGEx",
    ],
)
def test_footer_lookalikes_are_not_breaking(body: str) -> None:
    assert not parse_commit_message("fix: thing", body).breaking


def test_revert_subjects() -> None:
    commit = parse_commit_message('Revert "feat!: drop the v1 predictions format"', "")
    assert commit.is_revert
    assert not commit.is_conventional
    assert not commit.breaking  # a revert is not itself a breaking change
    nested = parse_commit_message('Revert "Revert "fix: x""', "This reverts commit abc.")
    assert nested.is_revert
    conventional = parse_commit_message("revert: feat: drop format", "Refs: 676104e")
    assert conventional.is_revert and conventional.is_conventional


@pytest.mark.parametrize(
    "subject",
    [
        "Merge branch 'feature/drift' into development",
        "Merge branch 'hotfix/1.4.1'",
        "Merge branch 'development' of github.com:org/views into development",
        "Merge branches 'a' and 'b' into development",
        "Merge remote-tracking branch 'origin/production' into development",
        "Merge pull request #12 from prio-data/feature/crps",
        "Merge tag 'v1.4.0' into development",
        "Merge commit 'a1b2c3d4'",
        "Merge 0123abc into 4567def",
        "Merged in feature/x (pull request #7)",
        "Merged PR 42: Add drift page",
    ],
)
def test_merge_subjects_are_recognised(subject: str) -> None:
    assert looks_like_merge(subject)
    commit = parse_commit_message(subject, "")
    assert commit.looks_like_merge and commit.is_merge
    assert not commit.is_conventional


@pytest.mark.parametrize(
    "subject", ["Merge sort for the ranking table", "merge: combine configs", "Merging soon"]
)
def test_merge_lookalikes_are_ordinary(subject: str) -> None:
    assert not looks_like_merge(subject)
    assert not parse_commit_message(subject, "").is_merge


def test_parent_count_is_authoritative() -> None:
    squash = classify("Merge branch 'feature/x' into development", "* feat: x", is_merge=False)
    assert squash.looks_like_merge and not squash.is_merge
    odd = classify("feat: resolved conflicts", "", is_merge=True)
    assert odd.is_merge and odd.type == "feat"


@pytest.mark.parametrize(
    "subject",
    [
        "feat: ünïcödé ✓ 预测 🚀",
        "fix: <script>alert(1)</script>",
        "<script>alert('x')</script>",
        "fix: bad bytes \ufffd\ufffd decoded by the caller",
        "feat: " + "x" * 100_000,
        "fix: tab\there and a\nnewline",
        "fix: escape \x1b[31mred",
    ],
)
def test_arbitrary_subject_text_is_safe(subject: str) -> None:
    commit = parse_commit_message(subject, subject)
    assert "\n" not in commit.description and "\t" not in commit.description
    assert "\x1b" not in commit.description
    assert len(commit.description) <= len(subject)


def test_script_subject_is_kept_verbatim_in_the_model() -> None:
    commit = parse_commit_message("fix(ui): <script>alert(1)</script>", "")
    assert commit.description == "<script>alert(1)</script>"  # escaping is the renderer's job


SHA = "0123456789abcdef0123456789abcdef01234567"


def test_cherry_pick_trailers() -> None:
    body = f"Fix the drift threshold\n\n(cherry picked from commit {SHA})\n"
    assert cherry_picked_from(body) == [SHA]


def test_several_and_abbreviated_trailers() -> None:
    body = (
        "Back-port.\n\n"
        "(cherry picked from commit 89abcdef0)\n"
        f"(cherry picked from commit {SHA.upper()})\r\n"
        f"  (cherry picked from commit {SHA})  \n"
        "(cherry picked from commit " + "a" * 64 + ")"
    )
    assert cherry_picked_from(body) == ["89abcdef0", SHA, "a" * 64]


@pytest.mark.parametrize(
    "body",
    [
        "",
        "Cherry-picked without -x: no trailer at all.",
        f"see (cherry picked from commit {SHA}) in prose",
        "(cherry picked from commit abc)",  # too short to name a commit
        "(cherry picked from commit not-a-sha)",
        f"(Cherry-picked from commit {SHA})",
    ],
)
def test_no_cherry_pick_trailer(body: str) -> None:
    assert cherry_picked_from(body) == []
