import datetime as dt
import json

from releases.versioning import Changelog, CommitInfo, build_changelog

WHEN = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def commit(
    sha: str, subject: str, body: str = "", *, merge: bool = False, author: str = "Ada"
) -> CommitInfo:
    return CommitInfo(sha, subject, body, author, "ada@example.org", WHEN, merge)


RANGE = [
    commit("1111111111aa", "docs: explain drift thresholds"),
    commit("2222222222222222222222222222222222222222", "fix(drift): empty reference"),
    commit("3333333", "Merge pull request #9 from org/feat", merge=True),
    commit("4444444444", "feat(ui): model health page"),
    commit("5555555555", "perf: faster parquet reads", author="Grace"),
    commit("6666666666", "feat(io)!: posterior draws as lists"),
    commit("7777777777", "Tidy imports"),
    commit("8888888888", "refactor: store", "BREAKING CHANGE: new layout"),
    commit("9999999999", 'Revert "feat: experimental page"'),
]


def test_groups_and_order() -> None:
    changelog = build_changelog(RANGE)
    assert [(e.group, e.sha) for e in changelog.entries] == [
        ("Breaking", "66666666"),
        ("Breaking", "88888888"),
        ("Features", "44444444"),
        ("Fixes", "22222222"),
        ("Fixes", "55555555"),
        ("Other", "11111111"),
        ("Other", "77777777"),
        ("Other", "99999999"),
    ]
    assert changelog.group("Features")[0].scope == "ui"


def test_merge_commits_are_left_out() -> None:
    changelog = build_changelog(RANGE)
    assert all("Merge" not in e.subject for e in changelog.entries)
    assert all(not e.sha.startswith("3333") for e in changelog.entries)


def test_short_sha_is_kept_when_already_short() -> None:
    changelog = build_changelog([commit("abcdef1", "fix: x")])
    assert changelog.entries[0].sha == "abcdef1"


def test_to_list_is_json_ready() -> None:
    items = build_changelog(RANGE).to_list()
    assert items[0] == {
        "group": "Breaking",
        "sha": "66666666",
        "author": "Ada",
        "type": "feat",
        "scope": "io",
        "subject": "posterior draws as lists",
    }
    assert items[-2]["type"] is None and items[-2]["subject"] == "Tidy imports"
    assert json.loads(json.dumps(items)) == items


def test_round_trip_through_json() -> None:
    changelog = build_changelog(RANGE)
    assert Changelog.from_list(json.loads(json.dumps(changelog.to_list()))) == changelog


def test_markdown() -> None:
    text = build_changelog(RANGE).as_markdown()
    assert text.startswith("### Breaking\n\n- **io**: posterior draws as lists (66666666, Ada)\n")
    assert "### Features\n\n- **ui**: model health page (44444444, Ada)" in text
    assert "- faster parquet reads (55555555, Grace)" in text
    assert text.index("### Fixes") < text.index("### Other")


def test_empty_changelog() -> None:
    changelog = build_changelog([commit("abc12345", "Merge branch 'x'", merge=True)])
    assert not changelog
    assert changelog.to_list() == []
    assert changelog.as_markdown() == "No changes.\n"


def test_hostile_subjects_in_markdown() -> None:
    changelog = build_changelog(
        [
            commit("a" * 40, "fix(ui): <script>alert(1)</script>"),
            commit("b" * 40, "feat: [click](javascript:alert(1)) `code` *bold*"),
            commit("c" * 40, "fix: red \x1b[31m text\nsecond line"),
            commit("d" * 40, "feat: " + "é" * 5000),
            commit("e" * 40, "docs: 预测 🚀 \ufffd", author="<b>Mallory</b>"),
        ]
    )
    text = changelog.as_markdown()
    assert "<script>" not in text and "\\<script\\>" in text
    assert "\\[click\\](javascript:alert(1))" in text
    assert "\x1b" not in text
    assert "second line" in text and "\nsecond line" not in text
    assert max(len(line) for line in text.splitlines()) < 300
    assert "预测 🚀 \ufffd" in text
    assert "\\<b\\>Mallory\\</b\\>" in text
    # the JSON keeps the full (single-line) text; escaping HTML is the template's job
    assert changelog.group("Fixes")[0].to_dict()["subject"] == "<script>alert(1)</script>"


def test_author_falls_back_to_email() -> None:
    info = CommitInfo("f" * 40, "fix: x", "", "", "ghost@example.org", WHEN, False)
    assert build_changelog([info]).entries[0].author == "ghost@example.org"
