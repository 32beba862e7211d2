"""A long changelog reads: bot and one-word commits set apart, long groups collapsed."""

from releases.versioning import changelog_groups, is_noise


def entry(subject: str, *, group: str = "Fixes", author: str = "Pat", kind: str | None = "fix"):
    return {
        "group": group,
        "sha": "abc",
        "author": author,
        "type": kind,
        "scope": None,
        "subject": subject,
    }


def test_bots_and_one_word_subjects_are_noise():
    assert is_noise(entry("Automated changes by GitHub Actions", kind=None))
    assert is_noise(entry("bump catalogs", author="github-actions[bot]", kind=None))
    assert is_noise(entry("wip", kind=None)) and is_noise(entry("typo", kind=None))
    assert not is_noise(entry("fix the month boundary"))
    assert not is_noise(entry("Update the partitioner for 2026", kind=None))


def test_groups_keep_their_order_and_collapse_past_eight():
    items = [entry(f"fix number {i}") for i in range(11)]
    items += [entry("add a model", group="Features", kind="feat"), entry("wip", kind=None)]
    groups, noise = changelog_groups(items)
    assert [(g.name, len(g.shown), len(g.more), g.total) for g in groups] == [
        ("Fixes", 8, 3, 11),
        ("Features", 1, 0, 1),
    ]
    assert [n["subject"] for n in noise] == ["wip"]
