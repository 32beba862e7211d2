"""Repository sync benchmark: ewsdash's sync vs the plain git commands for the same facts.

    .venv/bin/python bench/sync.py [--commits 20000] [--branches 300] [--tags 500] [--repeat 3]

It writes a synthetic origin with `git fast-import` (a development line, feature branches
merged or open, production merging development at every release, hotfixes on production
of which half are cherry-picked back), then, in the same run and on the same machine:

- ewsdash, full first sync: `repository_create` (clone) + `repository_sync` through the
  real services on a throw-away SQLite database, branches, releases, changelogs and the
  back-port ledger included, the database writes included;
- ewsdash, no-change re-sync: `repository_sync` again with nothing moved;
- plain git, full: `git clone --bare` and the commands that compute the same facts
  (branch listing, per-branch `rev-list --left-right --count` against production and
  development, the tag listing, tags merged into production, the commits past the latest
  release, the next-version log, the release-changelog log, the cherry-marked back-port
  log and the cherry-pick trailer grep), run one after another;
- ewsdash, forced re-sync: `repository_sync(force=True)` with nothing moved (a fetch and
  every fact read again); plain git: a fetch into its clone and the same commands;
- plain git, no change: `git ls-remote`.

A real repository instead of the synthetic one (a bare copy; it is copied first):

    .venv/bin/python bench/sync.py --origin /path/views-models.git \
        --production main --development development --partial

`--partial` adds the same rows with blobless partial clones (`--filter=blob:none`) on both
sides, and the size of ewsdash's clone each way.

Each figure is the median of --repeat runs. Targets: full sync within 2x of plain git,
forced re-sync of views-models at most 1.0 s, no-change re-sync under 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GIT_ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
PEOPLE = [
    "Maja Lindqvist <maja@pipeline.example>",
    "Tomas Okafor <tomas@pipeline.example>",
    "Aisha Mensah <aisha@pipeline.example>",
    "Jonas Berg <jonas@pipeline.example>",
]
KINDS = ["feat", "fix", "chore", "docs", "perf", "refactor"]


def git(*args: str, cwd: Path | None = None, input_bytes: bytes | None = None) -> bytes:
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, input=input_bytes, capture_output=True
    )
    if result.returncode:
        raise SystemExit(f"git {args[0]} failed: {result.stderr.decode(errors='replace')}")
    return result.stdout


class Stream:
    """A git fast-import stream: marks, commits, merges and annotated tags."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.mark = 0
        self.clock = 1_600_000_000
        self.rng = random.Random(7)
        self.commits = 0

    def commit(
        self,
        ref: str,
        message: str,
        *,
        parent: int | None = None,
        merge: int | None = None,
        files: dict[str, str] | None = None,
    ) -> int:
        self.mark += 1
        self.clock += 60
        self.commits += 1
        who = self.rng.choice(PEOPLE)
        data = message.encode()
        lines = [
            f"commit {ref}",
            f"mark :{self.mark}",
            f"author {who} {self.clock} +0000",
            f"committer {who} {self.clock} +0000",
            f"data {len(data)}",
        ]
        chunk = "\n".join(lines).encode() + b"\n" + data + b"\n"
        if parent is not None:
            chunk += f"from :{parent}\n".encode()
        if merge is not None:
            chunk += f"merge :{merge}\n".encode()
        for path, text in (files or {}).items():
            body = text.encode()
            chunk += f"M 100644 inline {path}\ndata {len(body)}\n".encode() + body + b"\n"
        self.parts.append(chunk + b"\n")
        return self.mark

    def tag(self, name: str, mark: int, message: str) -> None:
        data = message.encode()
        self.parts.append(
            f"tag {name}\nfrom :{mark}\ntagger {PEOPLE[0]} {self.clock} +0000\n"
            f"data {len(data)}\n".encode()
            + data
            + b"\n"
        )

    def message(self, n: int) -> str:
        kind = KINDS[n % len(KINDS)]
        return f"{kind}(area{n % 17}): change number {n}\n\nWhy change {n} was needed.\n"


def build_origin(path: Path, *, commits: int, branches: int, tags: int) -> dict[str, int]:
    """A bare origin with about `commits` commits, `branches` branches and `tags` tags."""
    s = Stream()
    hotfixes = max(tags // 25, 1)
    releases = tags - hotfixes
    merged_features = branches * 2 // 3
    open_features = branches - merged_features
    feature_commits = 3
    # Everything that is not a plain development commit, counted up front.
    overhead = (
        releases + hotfixes + hotfixes // 2 + branches * feature_commits + merged_features + 1
    )
    development_commits = max(commits - overhead, releases)
    per_release = max(development_commits // releases, 1)

    root = s.commit(
        "refs/heads/development", "chore: initial pipeline\n", files={"README.md": "pipeline\n"}
    )
    s.parts.append(f"reset refs/heads/production\nfrom :{root}\n\n".encode())
    dev = root
    production = root
    feature_starts = set(s.rng.sample(range(development_commits), branches))
    feature_no = 0
    release_no = 0
    hotfix_no = 0
    for n in range(development_commits):
        dev = s.commit(
            "refs/heads/development",
            s.message(n),
            files={f"src/module{n % 211}.py": f"value = {n}\n"},
        )
        if n in feature_starts:
            feature_no += 1
            ref = f"refs/heads/feature/f{feature_no:03d}"
            head = dev
            for k in range(feature_commits):
                head = s.commit(
                    ref,
                    f"feat: feature {feature_no} part {k}\n",
                    parent=head if k else dev,
                    files={f"features/f{feature_no}.py": f"part = {k}\n"},
                )
            if feature_no <= merged_features:
                dev = s.commit(
                    "refs/heads/development",
                    f"Merge branch 'feature/f{feature_no:03d}' into development\n",
                    merge=head,
                )
        if (n + 1) % per_release == 0 and release_no < releases:
            release_no += 1
            production = s.commit(
                "refs/heads/production",
                "Merge branch 'development' into production\n",
                parent=production,
                merge=dev,
            )
            prefix = "" if release_no % 10 == 0 else "v"  # a repository mixing both
            s.tag(f"{prefix}1.{release_no}.0", production, f"Release 1.{release_no}.0\n")
            if hotfix_no < hotfixes and release_no % max(releases // hotfixes, 1) == 0:
                hotfix_no += 1
                change = {f"hotfix/h{hotfix_no}.py": f"fixed = {hotfix_no}\n"}
                production = s.commit(
                    "refs/heads/production", f"fix: hotfix {hotfix_no}\n", files=change
                )
                s.tag(f"v1.{release_no}.1", production, f"Hotfix 1.{release_no}.1\n")
                if hotfix_no % 2 == 0:  # ported by an equal patch; the rest stay open
                    dev = s.commit(
                        "refs/heads/development", f"fix: port hotfix {hotfix_no}\n", files=change
                    )
    path.mkdir(parents=True)
    git("init", "--quiet", "--bare", str(path))
    git("fast-import", "--quiet", cwd=path, input_bytes=b"".join(s.parts))
    return {
        "commits": int(git("rev-list", "--all", "--count", cwd=path)),
        "branches": len(git("for-each-ref", "refs/heads", cwd=path).splitlines()),
        "tags": len(git("for-each-ref", "refs/tags", cwd=path).splitlines()),
        "open_features": open_features,
    }


def plain_git_full(
    origin: Path,
    scratch: Path,
    *,
    production: str = "production",
    development: str = "development",
    partial: bool = False,
) -> None:
    """The git commands a full sync needs, with no Python work in between beyond parsing
    what the next command needs as its argument."""
    clone = scratch / "plain.git"
    shutil.rmtree(clone, ignore_errors=True)
    git(
        "clone",
        "--quiet",
        "--bare",
        *(["--filter=blob:none"] if partial else []),
        str(origin),
        str(clone),
    )
    plain_git_facts(clone, production=production, development=development)


def plain_git_forced(clone: Path, *, production: str, development: str) -> None:
    """A forced re-sync in plain git: fetch into the existing clone, then every fact again."""
    git(
        "fetch",
        "--quiet",
        "origin",
        "+refs/heads/*:refs/heads/*",
        "+refs/tags/*:refs/tags/*",
        cwd=clone,
    )
    plain_git_facts(clone, production=production, development=development)


def plain_git_facts(clone: Path, *, production: str, development: str) -> None:
    out = git(
        "for-each-ref",
        "--format=%(refname:lstrip=2)%00%(objectname)%00%(authorname)"
        "%00%(authoremail:trim)%00%(committerdate:unix)%00%(contents:subject)%1e",
        "refs/heads/",
        cwd=clone,
    )
    heads = [record.split(b"\x00")[:2] for record in out.split(b"\x1e") if record.strip()]
    named = {name.strip().decode(): sha.decode() for name, sha in heads}
    production_head, development_head = named[production], named[development]
    for _name, sha in named.items():
        for base in (production_head, development_head):
            if sha != base:
                git("rev-list", "--left-right", "--count", f"{base}...{sha}", cwd=clone)
    git(
        "for-each-ref",
        "--format=%(refname:lstrip=2)%00%(objectname)%00%(objecttype)"
        "%00%(*objectname)%00%(*objecttype)%00%(taggername)%00%(taggeremail:trim)"
        "%00%(committername)%00%(committeremail:trim)%00%(creatordate:unix)%1e",
        "refs/tags/",
        cwd=clone,
    )
    merged = [
        tag
        for tag in git(
            "for-each-ref",
            f"--merged=refs/heads/{production}",
            "--format=%(refname:lstrip=2)",
            "refs/tags/",
            cwd=clone,
        ).split()
        if SEMVER.match(tag.decode())
    ]
    log_format = "--format=%H%x1f%P%x1f%an%x1f%ae%x1f%ct%x1f%s%x1f%b"
    if merged:
        latest = max(merged, key=_version_key).decode()
        git("rev-list", "--count", f"{latest}..{production}", cwd=clone)
        git("log", "-z", log_format, f"{latest}..{development}", "--", cwd=clone)
        git("log", "-z", log_format, *[m.decode() for m in merged], "--", cwd=clone)
    marked = git(
        "log",
        "-z",
        "--cherry-mark",
        "--right-only",
        f"--format=%m%x1f{log_format[9:]}",
        f"{development}...{production}",
        "--",
        cwd=clone,
    )
    git(
        "log",
        "-z",
        "--fixed-strings",
        "--grep=(cherry picked from commit ",
        log_format,
        development,
        "--",
        cwd=clone,
    )
    # Items git did not mark as equal: compare their patch ids with development's.
    items = []
    for record in marked.split(b"\x00"):
        fields = record.lstrip(b"\n").split(b"\x1f")
        if len(fields) > 2 and fields[0] != b"=" and len(fields[2].split()) == 1:
            items.append(fields[1].decode())
    if items:
        paths = [
            p.decode()
            for p in git(
                "log", "--no-walk=unsorted", "-z", "--name-only", "--format=", *items, cwd=clone
            ).split(b"\x00")
            if p
        ]
        diff_args = ["log", "-p", "--no-merges", "--full-diff", "--format=commit %H"]
        ours = git(*diff_args, "--no-walk=unsorted", *items, "--", cwd=clone)
        theirs = git(*diff_args, development, "--", *paths, cwd=clone)
        git("patch-id", "--stable", cwd=clone, input_bytes=ours + b"\n" + theirs)


SEMVER = re.compile(r"^v?\d+\.\d+\.\d+$")


def _version_key(tag: bytes) -> tuple[int, ...]:
    return tuple(int(part) for part in tag.decode().lstrip("v").split("."))


def plain_git_unchanged(origin: Path) -> None:
    git("ls-remote", "--heads", "--tags", str(origin))


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--branches", type=int, default=300)
    parser.add_argument("--tags", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--origin", type=Path, help="a real repository (bare) instead of the synthetic one"
    )
    parser.add_argument("--production", default="production")
    parser.add_argument("--development", default="development")
    parser.add_argument(
        "--partial", action="store_true", help="also measure blobless partial clones"
    )
    args = parser.parse_args()
    branches = {"production": args.production, "development": args.development}

    work = Path(tempfile.mkdtemp(prefix="ewsdash-bench-sync-"))
    os.environ["EWSDASH_VAR_DIR"] = str(work / "var")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ewsdash.settings")
    try:
        started = time.perf_counter()
        origin = work / "origin.git"
        if args.origin:
            shutil.copytree(args.origin, origin, symlinks=True)
            shape = {
                "commits": int(git("rev-list", "--all", "--count", cwd=origin)),
                "branches": len(git("for-each-ref", "refs/heads", cwd=origin).splitlines()),
                "tags": len(git("for-each-ref", "refs/tags", cwd=origin).splitlines()),
            }
        else:
            shape = build_origin(
                origin, commits=args.commits, branches=args.branches, tags=args.tags
            )
        git("config", "uploadpack.allowFilter", "true", cwd=origin)  # as GitHub does
        print(
            f"origin: {args.origin or 'synthetic'}: {shape['commits']} commits, "
            f"{shape['branches']} branches, {shape['tags']} tags, "
            f"{folder_size(origin) / 1e6:.1f} MB (ready in {time.perf_counter() - started:.1f} s)"
        )

        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from releases import services, sync
        from releases.clones import clone_dir
        from releases.models import BackportItem, Release, Repository

        def ewsdash_full(name: str = "bench", partial: bool = False) -> None:
            # Repositories are never deleted; free the name for this round.
            Repository.objects.filter(name=name).update(name=f"{name}-{time.monotonic_ns()}")
            repository = services.repository_create(
                actor="bench",
                name=name,
                origin=str(origin),
                production_branch=args.production,
                development_branch=args.development,
                partial_clone=partial,
            )
            outcome = sync.repository_sync(repository=repository, actor="bench")
            assert not outcome.error, outcome.error

        def ewsdash_forced(name: str = "bench") -> None:
            repository = Repository.objects.get(name=name)
            outcome = sync.repository_sync(repository=repository, actor="bench", force=True)
            assert not outcome.error, outcome.error

        def ewsdash_unchanged() -> None:
            repository = Repository.objects.get(name="bench")
            outcome = sync.repository_sync(repository=repository, actor="bench")
            assert not outcome.changed and not outcome.error

        from django.conf import settings

        def ewsdash_full_serial() -> None:
            workers, settings.EWSDASH_GIT_WORKERS = settings.EWSDASH_GIT_WORKERS, 1
            try:
                ewsdash_full()
            finally:
                settings.EWSDASH_GIT_WORKERS = workers

        plain = work / "plain"
        plain.mkdir()
        plain_full = median_time(lambda: plain_git_full(origin, plain, **branches), args.repeat)
        rows = [
            (
                f"full first sync ({settings.EWSDASH_GIT_WORKERS} git at once)",
                median_time(ewsdash_full, args.repeat),
                plain_full,
                "2x",
            ),
            (
                "full first sync (1 git at once)",
                median_time(ewsdash_full_serial, args.repeat),
                plain_full,
                "2x",
            ),
            (
                "forced re-sync (fetch, every fact)",
                median_time(ewsdash_forced, args.repeat),
                median_time(lambda: plain_git_forced(plain / "plain.git", **branches), args.repeat),
                "<= 1.0 s",
            ),
            (
                "no-change re-sync",
                median_time(ewsdash_unchanged, args.repeat),
                median_time(lambda: plain_git_unchanged(origin), args.repeat),
                "< 0.3 s",
            ),
        ]
        sizes = [("full clone", folder_size(clone_dir("bench")))]
        if args.partial:
            thin = work / "plain-partial"
            thin.mkdir()
            plain_partial = median_time(
                lambda: plain_git_full(origin, thin, partial=True, **branches), args.repeat
            )
            rows += [
                (
                    "partial clone: full first sync",
                    median_time(lambda: ewsdash_full("bench-partial", True), args.repeat),
                    plain_partial,
                    "",
                ),
                (
                    "partial clone: forced re-sync",
                    median_time(lambda: ewsdash_forced("bench-partial"), args.repeat),
                    median_time(
                        lambda: plain_git_forced(thin / "plain.git", **branches), args.repeat
                    ),
                    "",
                ),
            ]
            sizes.append(("partial clone", folder_size(clone_dir("bench-partial"))))
        releases = Release.objects.filter(repository__name="bench")
        open_items = BackportItem.objects.filter(repository__name="bench", resolved_at=None)
        print(
            f"recorded: {releases.count()} releases, "
            f"{releases.filter(on_production=True).count()} on production, "
            f"{open_items.count()} open back-ports of "
            f"{BackportItem.objects.filter(repository__name='bench').count()}"
        )
        print()
        print(f"{'case':<36} {'ewsdash':>10} {'plain git':>10} {'ratio':>7}  target")
        for name, ours, reference, target in rows:
            print(
                f"{name:<36} {ours:>9.3f}s {reference:>9.3f}s {ours / reference:>6.2f}x  {target}"
            )
        print(
            f"(median of {args.repeat}; plain git runs its commands one after another on "
            f"{os.cpu_count()} CPUs)"
        )
        print(
            "ewsdash's cache clone after the syncs: "
            + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in sizes)
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
