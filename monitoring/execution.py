"""Running one claimed check on a worker: its tree, command, evaluation, evidence.

The Celery task calls `check_result_run`; every database write goes through
monitoring.claims under the check's claim. The folders of one claim live under
EWSDASH_CLONES_DIR/worktrees/check-<id>-<token>/ and are removed afterwards:

    tree/                 a fresh export of the run's commit (no .git, no remote)
    artifacts/<check>/    {artifacts}; the folders of the checks it reads are filled
                          from the artifact store, as copies (their sha256 verified)
    home/, tmp/           HOME and TMPDIR of the command

The command runs in the sandbox (monitoring.validation.sandbox), which sees this folder
as /sandbox and nothing else of ewsdash; a worker whose sandbox cannot run refuses to run
commands (the check ends `error`, saying why), unless EWSDASH_SANDBOX=none.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shlex
import shutil
import threading
import time
from pathlib import Path, PurePosixPath
from typing import Any

from billiard.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection

from monitoring import artifacts, check_secrets, claims, sandboxing
from monitoring.claims import CheckReport, Claim
from monitoring.drift_jobs import drift_job_record_validation
from monitoring.models import CheckArtifact, CheckResult, CheckStatus, RunPurpose, ValidationRun
from monitoring.validation import (
    CheckSpec,
    CommandResult,
    JudgeContext,
    LogSnapshot,
    Manifest,
    MetricRow,
    check_environment,
    command_line,
    get_kind,
    run_command,
)
from monitoring.validation.masking import Masker
from monitoring.validation.sandbox import INSIDE, SandboxLayout, SandboxPolicy, bwrap_argv
from monitoring.validation.storable import clean_json, clean_text, metric_problem
from releases import git
from releases.clones import clone_session

log = logging.getLogger(__name__)

# What the database keeps of a command's output: its beginning and its end.
LOG_HEAD_BYTES = 32 * 1024
LOG_TAIL_BYTES = 96 * 1024
# Files of one check's folder stored as artifacts; the rest are counted, not stored.
MAX_ARTIFACT_FILES = 500
# Kind of an artifact a check read from another check's folder (not its own output).
INPUT = "input"
LIVE_LOG_INTERVAL_S = 1.0


class WorktreeUnavailable(Exception):
    """The clone or the worktree could not be prepared: the worker's problem, retried."""


def scratch_root() -> Path:
    return Path(settings.EWSDASH_CLONES_DIR) / "worktrees"


def check_result_run(*, check_id: int, worker: str, last_try: bool) -> str:
    """Claim the check, run it, write its result once. Returns a line for the worker's log.

    Raises WorktreeUnavailable (after giving the check back to the queue) when the
    worktree cannot be made and this is not the task's last try.
    """
    claim = claims.claim_take(check_id=check_id, worker=worker)
    if claim is None:
        return f"check {check_id} is not queued (finished, cancelled or claimed): nothing to do"
    check = claim.check
    run = check.run
    spec = Manifest.from_dict(run.manifest or {}).check(check.name)
    _remove_leftovers(run, check.pk)
    scratch = scratch_root() / f"check-{check.pk}-{claim.token[:8]}"
    beat = Heartbeat(claim, interval=settings.EWSDASH_CHECK_HEARTBEAT_INTERVAL)
    beat.start()
    try:
        report = _judge_safely(claim, run, check, spec, scratch, beat, last_try)
        report = report_storable(_masked(report, beat.masker))
        # Before the folders go: claim_finish copies the files into the store (and the
        # heartbeat goes on meanwhile, for large files).
        written = claims.claim_finish(claim=claim, report=report)
    finally:
        beat.stop()
        _remove_scratch(run, scratch)
    if not written:
        return f"check {check.name} of run {run.pk}: claim lost, result discarded"
    if spec.kind == "drift":
        _record_drift_job(run, spec, report)
    return f"check {check.name} of run {run.pk}: {report.status}"


def _masked(report: CheckReport, masker: Masker) -> CheckReport:
    """The report with the values of the secrets the check was handed masked out."""
    if masker:
        report.summary = masker.text(report.summary)
        report.log_text = masker.text(report.log_text)
        report.details = masker.data(report.details)
    return report


def report_storable(report: CheckReport) -> CheckReport:
    """The report as the database can store it: a metric row it cannot store (NaN, inf, a
    step out of range) fails the check, naming the row, instead of failing the write."""
    problems = [problem for row in report.metrics if (problem := metric_problem(row))]
    if problems:
        report.metrics = [row for row in report.metrics if metric_problem(row) is None]
        report.details["metrics_refused"] = problems[:50]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        if report.status == CheckStatus.PASSED:
            report.status = CheckStatus.FAILED
            report.summary = f"{problems[0]}{more}: not stored"
        else:
            report.summary = f"{report.summary}; {problems[0]}{more}: not stored"
    report.summary = clean_text(report.summary)
    report.log_text = clean_text(report.log_text)
    report.details = clean_json(report.details)
    return report


def _record_drift_job(run: ValidationRun, spec: CheckSpec, report: CheckReport) -> None:
    """Record the comparison as a drift job, for the monitoring pages.

    After claim_finish, so the verdict is written and both runs' files are in the store
    whichever check produced them. A failure here is logged and never touches the check.
    """
    baseline = report.details.get("baseline")
    if report.status not in (CheckStatus.PASSED, CheckStatus.FAILED) or not baseline:
        return  # nothing was compared
    try:
        drift_job_record_validation(
            run=run,
            check_name=spec.name,
            artifacts_from=spec.artifacts_owner,
            baseline_run_id=baseline["run"],
            columns=spec.columns,
            options=spec.options,
        )
    except Exception:
        log.exception("drift check %s of run %s: could not record its drift job", spec.name, run.pk)


def _judge_safely(
    claim: Claim,
    run: ValidationRun,
    check: CheckResult,
    spec: CheckSpec,
    scratch: Path,
    beat: Heartbeat,
    last_try: bool,
) -> CheckReport:
    """The check's report, whatever happens on the way (but a retryable worktree error)."""
    try:
        try:
            beat.phase("preparing the worktree")
            tree = _prepare(run, scratch)
        except (git.GitError, OSError) as error:
            if not last_try:
                claims.claim_release(claim=claim)
                raise WorktreeUnavailable(str(error)) from error
            return CheckReport(CheckStatus.ERROR, f"could not prepare the worktree: {error}")
        return _run_and_judge(run, check, spec, scratch, tree, beat)
    except SoftTimeLimitExceeded:
        return CheckReport(
            CheckStatus.TIMED_OUT,
            f"the task ran out of time (command timeout {spec.timeout_s}s plus evaluation)",
        )
    except WorktreeUnavailable:
        raise
    except Exception as error:  # a bug or an unreadable file must not leave it running
        log.exception("check %s of run %s failed on the worker", check.name, run.pk)
        return CheckReport(CheckStatus.ERROR, f"ewsdash could not evaluate this check: {error!r}")


# -- the heartbeat --------------------------------------------------------------------------


class Heartbeat(threading.Thread):
    """Writes the heartbeat and the live log while the check runs, and notices a cancel.

    A thread, not `on_progress`, because a command may be silent for minutes and reading
    a large prediction file or comparing drift prints nothing either.
    """

    def __init__(self, claim: Claim, *, interval: float) -> None:
        super().__init__(name=f"heartbeat-{claim.check.pk}", daemon=True)
        self.claim = claim
        self.interval = interval
        self.stopped = threading.Event()
        self.cancelled = threading.Event()
        self._lock = threading.Lock()
        self._snapshot: LogSnapshot | None = None
        self._phase: str | None = None
        # Masks the secrets the check was handed out of the live log (set when handed).
        self.masker = Masker({})

    def report(self, snapshot: LogSnapshot) -> None:
        with self._lock:
            self._snapshot = snapshot

    def phase(self, text: str) -> None:
        with self._lock:
            self._phase = text

    def should_cancel(self) -> bool:
        return self.cancelled.is_set()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=30)

    def run(self) -> None:
        last_beat = 0.0
        try:
            while not self.stopped.wait(min(LIVE_LOG_INTERVAL_S, self.interval)):
                with self._lock:
                    snapshot, self._snapshot = self._snapshot, None
                    phase, self._phase = self._phase, None
                now = time.monotonic()
                if snapshot is None and phase is None and now - last_beat < self.interval:
                    if not claims.claim_is_held(claim=self.claim):
                        self.cancelled.set()
                    continue
                fields: dict[str, Any] = {}
                if snapshot is not None:
                    fields.update(
                        log_text=self.masker.text(snapshot.text),
                        log_bytes=snapshot.bytes_total,
                        log_omitted=snapshot.bytes_omitted,
                        progress=self.masker.text(_last_line(snapshot.tail)),
                    )
                elif phase is not None:
                    fields["progress"] = phase
                if not claims.claim_heartbeat(claim=self.claim, **fields):
                    self.cancelled.set()
                last_beat = now
        except Exception:
            # The reaper re-queues a check whose heartbeat stops; say why in the log.
            log.exception("heartbeat of check %s stopped", self.claim.check.pk)
        finally:
            connection.close()


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


# -- folders --------------------------------------------------------------------------------


def _prepare(run: ValidationRun, scratch: Path) -> Path:
    for name in ("home", "tmp", "artifacts"):
        (scratch / name).mkdir(parents=True, exist_ok=True)
    tree = scratch / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    with clone_session(run.repository) as repo:
        if git.resolve_commit(repo, run.commit) is None:
            repo.fetch()  # this machine's clone may predate the commit
        git.export_tree(repo, run.commit, tree)
    return tree


def _remove_scratch(run: ValidationRun, scratch: Path) -> None:
    shutil.rmtree(scratch, ignore_errors=True)


def _remove_leftovers(run: ValidationRun, check_id: int) -> None:
    """Folders of an earlier claim of this check whose worker died on this machine."""
    for folder in scratch_root().glob(f"check-{check_id}-*"):
        _remove_scratch(run, folder)


def _fill_from_store(run: ValidationRun, name: str, folder: Path) -> None:
    """Copy check `name`'s own output files from the store into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    uses = (
        CheckArtifact.objects.filter(check_result__run=run, check_result__name=name)
        .exclude(kind=INPUT)
        .select_related("artifact")
    )
    for use in uses:
        relative = PurePosixPath(use.name)
        if relative.is_absolute() or ".." in relative.parts:
            continue  # never stored that way; refuse rather than write outside
        artifacts.artifact_copy_to(use.artifact, folder / relative)


def _own_files(folder: Path) -> tuple[list[Path], int]:
    """Regular files under `folder` (symbolic links are not evidence), and how many more."""
    real = folder.resolve()
    files = [
        path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.is_symlink() and path.resolve().is_relative_to(real)
    ]
    return files[:MAX_ARTIFACT_FILES], max(0, len(files) - MAX_ARTIFACT_FILES)


# -- running and judging --------------------------------------------------------------------


def _guarded(line: str, timeout_s: int) -> str:
    """The command under coreutils `timeout`, a little beyond the check's own limit.

    run_command enforces the limit while the worker lives; if the worker is killed, the
    command's process group would run on unattended. `timeout` (not in foreground mode)
    then ends the whole group by itself.
    """
    program = shutil.which("timeout")
    if program is None:
        return line
    return f"exec {shlex.quote(program)} -k 10 {timeout_s + 60} /bin/sh -c {shlex.quote(line)}"


def _replaced_folders(scratch: Path, folders: list[Path]) -> list[str]:
    """The folders (as the command saw them, under /sandbox) that are no longer plain
    folders of the scratch folder: the command replaced one, or a folder above it, with a
    link (or a file)."""
    replaced = []
    for folder in folders:
        path = folder
        while True:
            if path.is_symlink() or not path.is_dir():
                replaced.append(str(INSIDE / folder.relative_to(scratch)))
                break
            if path == scratch:
                break
            path = path.parent
    return replaced


def _corrupted(error: artifacts.ArtifactCorrupted) -> CheckReport:
    """A check that would read a file changed in the store fails (and is audited)."""
    return CheckReport(
        CheckStatus.FAILED,
        str(error),
        {"artifact_corrupted": [{"sha256": error.sha256, "found": error.found}]},
    )


def _run_sandboxed(
    spec: CheckSpec,
    policy: SandboxPolicy,
    scratch: Path,
    tree: Path,
    folders: dict[str, Path],
    beat: Heartbeat,
    secrets: dict[str, str],
) -> CommandResult:
    """Run `spec.run` in the sandbox `policy` describes (the scratch folder is /sandbox)."""
    layout = SandboxLayout(scratch=scratch, own=spec.name, reads=tuple(spec.depends_on))
    wrapper: list[str] = []
    seen_tree, seen, home, tmp = tree, dict(folders), scratch / "home", scratch / "tmp"
    if policy.confined:
        seen_tree, seen = layout.inside(tree), layout.translate(folders)
        home, tmp = layout.inside(home), layout.inside(tmp)
        wrapper = bwrap_argv(policy, layout, cwd=seen_tree)
    env = check_environment(spec, worktree=seen_tree, folders=seen)
    env["HOME"] = str(home)
    env["TMPDIR"] = str(tmp)
    # After check_environment, which refuses names that look like secrets: these are.
    env.update(secrets)
    return run_command(
        _guarded(command_line(spec, worktree=seen_tree, folders=seen), spec.timeout_s),
        cwd=tree,
        timeout=spec.timeout_s,
        log_path=scratch / "log.txt",
        head_bytes=LOG_HEAD_BYTES,
        tail_bytes=LOG_TAIL_BYTES,
        env=env,
        wrapper=wrapper,
        should_cancel=beat.should_cancel,
        on_progress=beat.report,
    )


def _run_and_judge(
    run: ValidationRun,
    check: CheckResult,
    spec: CheckSpec,
    scratch: Path,
    tree: Path,
    beat: Heartbeat,
) -> CheckReport:
    folders = {spec.name: scratch / "artifacts" / spec.name}
    folders[spec.name].mkdir(parents=True, exist_ok=True)
    try:
        for name in spec.depends_on:
            folders[name] = scratch / "artifacts" / name
            _fill_from_store(run, name, folders[name])
    except artifacts.ArtifactCorrupted as error:
        return _corrupted(error)

    command: CommandResult | None = None
    masked_files: list[str] = []
    if spec.run is not None:
        policy, refusal = _policy(run, spec)
        if refusal is not None:
            return CheckReport(CheckStatus.ERROR, refusal)
        assert policy is not None
        try:
            secrets = check_secrets.secrets_hand_out(run=run, check=spec.name, names=spec.secrets)
        except check_secrets.SecretsUnavailable as error:
            return CheckReport(CheckStatus.ERROR, f"not run: {error}", {"secrets": spec.secrets})
        beat.masker = Masker(secrets)
        beat.phase("running the command")
        command = _run_sandboxed(spec, policy, scratch, tree, folders, beat, secrets)
        if beat.masker:
            # Before anything reads them: what is judged is what is stored.
            masked_files = _mask_folder(folders[spec.name], beat.masker)
        replaced = _replaced_folders(scratch, [tree, *folders.values()])
        if replaced:
            # Read nothing through them: a link would lead ewsdash to the host's files.
            report = CheckReport(
                CheckStatus.FAILED,
                f"the command replaced its folder {replaced[0]} with a link; nothing was read",
                {"replaced": replaced},
            )
            report.exit_code, report.log_text = command.exit_code, command.log_text
            report.log_bytes, report.log_omitted = command.bytes_total, command.bytes_omitted
            return report
        if command.cancelled or command.timed_out:
            status = CheckStatus.CANCELLED if command.cancelled else CheckStatus.TIMED_OUT
            summary = "cancelled" if command.cancelled else f"timed out after {spec.timeout_s}s"
            return _with_command(
                CheckReport(status, f"{summary}; process group killed"), command, folders[spec.name]
            )

    beat.phase("checking the files")
    kind = get_kind(spec.kind)
    context = JudgeContext(worktree=tree, folders=folders, command=command)
    if kind.compares_with_production:
        try:
            context = _with_production(context, run, spec)
        except artifacts.ArtifactCorrupted as error:
            return _with_command(_corrupted(error), command, folders[spec.name])
    outcome = kind.judge(spec, context)
    report = CheckReport(outcome.status, outcome.summary, dict(outcome.details))
    if masked_files:
        report.details["masked_files"] = masked_files
    report.files = _records_to_files(outcome.artifacts, folders, spec)
    report.metrics = outcome.metrics
    report.directions = outcome.directions
    return _with_evaluation(_with_command(report, command, folders[spec.name]), spec)


def _policy(run: ValidationRun, spec: CheckSpec) -> tuple[SandboxPolicy | None, str | None]:
    """The sandbox of `spec`'s command, or why it must not run.

    The network is there only when the check declares it (``network = true``) and an admin
    allowed it for the repository; a check that declares it where it is not allowed is
    refused rather than run to fail on a connection error.
    """
    try:
        policy = sandboxing.sandbox_policy(run.repository)
    except ValueError as error:
        return None, f"refused to run the command: {error}"
    if spec.network and not policy.network:
        return None, (
            "refused to run the command: it declares network = true, but the network is not "
            f"allowed for {run.repository.name}'s checks (an admin can allow it)"
        )
    policy = dataclasses.replace(policy, network=spec.network and policy.network)
    refusal = sandboxing.sandbox_refusal(policy)
    if refusal is not None:
        return None, f"refused to run the command without its sandbox: {refusal}"
    return policy, None


def _mask_folder(folder: Path, masker: Masker) -> list[str]:
    """Mask the secrets out of the check's own files; the names of those that held one."""
    files, _more = _own_files(folder)
    return [path.relative_to(folder).as_posix() for path in files if masker.file(path)]


EVALUATION_LOG_LIMIT = 64 * 1024


def _with_evaluation(report: CheckReport, spec: Any) -> CheckReport:
    """Built-in checks append what they checked to the log, so a failing `performance` or
    `inference` check has a log to open, like a failing command."""
    if spec.kind == "command":
        return report
    body = json.dumps(report.details, indent=2, sort_keys=True, default=str)
    if len(body) > EVALUATION_LOG_LIMIT:
        body = body[:EVALUATION_LOG_LIMIT] + "\n… (the rest is in the check's details)"
    section = f"== ewsdash {spec.kind} check: {report.status} ==\n{report.summary}\n{body}\n"
    report.log_text = f"{report.log_text.rstrip()}\n\n{section}" if report.log_text else section
    report.log_bytes += len(section.encode())
    return report


def _with_command(report: CheckReport, command: CommandResult | None, own: Path) -> CheckReport:
    """Add the command's log and the check's own output files to a report."""
    if command is not None:
        report.exit_code = command.exit_code
        report.duration_s = round(command.duration_s, 3)
        report.log_text = command.log_text
        report.log_bytes = command.bytes_total
        report.log_omitted = command.bytes_omitted
    named = {name for name, *_ in report.files}
    files, more = _own_files(own)
    for path in files:
        name = path.relative_to(own).as_posix()
        if name not in named:
            report.files.append((name, path, "file", None))
    if more:
        report.details["artifacts_not_stored"] = more
    return report


def _records_to_files(
    records: list[dict[str, Any]], folders: dict[str, Path], spec: CheckSpec
) -> list[tuple[str, Path, str, int | None]]:
    """Files an outcome names (paths relative to the folder it read) as (name, path, kind, rows)."""
    root = folders[spec.artifacts_owner]
    kind = get_kind(spec.kind).output_kind if spec.artifacts_owner == spec.name else INPUT
    files = []
    for record in records:
        path = Path(record["path"])
        absolute = path if path.is_absolute() else root / path
        if absolute.is_file() and absolute.resolve().is_relative_to(root.resolve()):
            name = absolute.relative_to(root).as_posix()
            files.append((name, absolute, kind, record.get("rows")))
    return files


def _baseline(run: ValidationRun, spec: CheckSpec) -> tuple[CheckResult | None, str | None, str]:
    """(the reference's check to compare with, why the check must fail, why there is none).

    Decisions: a run of production's head is the reference and compares with nothing; a
    production without a manifest, or whose manifest lacks this check, gives no baseline
    and the check passes saying so (like a first release; otherwise the candidate that
    introduces a check could never be promoted); a reference check that did not pass
    makes the check fail, since a regression could otherwise slip through unseen (an
    admin may waive it).
    """
    if run.purpose == RunPurpose.REFERENCE:
        return None, None, "production reference run: recorded as the baseline"
    if run.reference_id is None:
        return None, None, "no production baseline (this commit is production's head)"
    reference = run.reference
    assert reference is not None
    baseline = CheckResult.objects.filter(run=reference, name=spec.name).first()
    where = f"production {reference.short_commit} (run #{reference.pk})"
    if reference.manifest is None:
        # Not a refusal: the first candidate that adds a manifest must be promotable.
        return None, None, f"no production baseline: {where}: {reference.summary}"
    if baseline is None:
        return None, None, f'no production baseline: {where} declares no check "{spec.name}"'
    if baseline.status != CheckStatus.PASSED:
        return (
            None,
            (
                f'no production baseline: the check "{spec.name}" of {where} ended '
                f"{baseline.status}; re-run the reference or waive this check"
            ),
            "",
        )
    return baseline, None, ""


def _with_production(context: JudgeContext, run: ValidationRun, spec: CheckSpec) -> JudgeContext:
    """The context with the production baseline of a check that compares with production."""
    baseline, refusal, note = _baseline(run, spec)
    if baseline is None:
        return dataclasses.replace(context, refusal=refusal, no_baseline_note=note)
    return dataclasses.replace(
        context,
        baseline_metrics=[
            MetricRow(m.model, m.target, m.metric, m.step, m.value) for m in baseline.metrics.all()
        ],
        baseline_files={
            use.name: artifacts.artifact_verified(use.artifact.sha256)
            for use in baseline.artifacts.select_related("artifact")
        },
        baseline_ref={"run": baseline.run_id, "check": baseline.pk},
    )
