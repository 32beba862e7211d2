"""The sandbox policy of a repository's checks, from the settings and the admin's choices.

``EWSDASH_SANDBOX`` says how commands are confined ("bwrap", or "none": the operator's
explicit opt-out, reported by ``check --deploy`` and shown on every page), ``EWSDASH_BWRAP``
which program is bubblewrap;
``EWSDASH_SANDBOX_MOUNTS`` and the repository's ``sandbox_mounts`` list the runtimes a
check may read; ``sandbox_network`` lets its checks use the network. A mount that would
show a check ewsdash's own folders (its code, var folder, clones, artifacts) is refused.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core import checks

from monitoring.validation.sandbox import SandboxPolicy, sandbox_problem
from releases.models import Repository

UNSANDBOXED_WARNING = (
    "Checks run without a sandbox (EWSDASH_SANDBOX=none): the code under validation can "
    "read this server's secrets and change its repositories. Install bubblewrap (apt-get "
    "install bubblewrap) and unset EWSDASH_SANDBOX."
)


def protected_folders() -> list[Path]:
    """ewsdash's own folders: no check may see them."""
    return [
        Path(settings.BASE_DIR).resolve(),
        Path(settings.VAR_DIR).resolve(),
        Path(settings.EWSDASH_CLONES_DIR).resolve(),
        Path(settings.EWSDASH_ARTIFACTS_DIR).resolve(),
    ]


def _exposes(mount: Path, folder: Path) -> bool:
    return mount == folder or mount.is_relative_to(folder) or folder.is_relative_to(mount)


def sandbox_policy(repository: Repository) -> SandboxPolicy:
    """The policy of `repository`'s checks. Raises ValueError for a mount that is refused."""
    mounts = [Path(path) for path in settings.EWSDASH_SANDBOX_MOUNTS]
    mounts += [Path(path) for path in repository.sandbox_mount_paths()]
    for mount in mounts:
        real = mount.resolve()
        for folder in protected_folders():
            if _exposes(real, folder):
                raise ValueError(
                    f"sandbox mount {mount} would show checks ewsdash's own folder {folder}"
                )
    return SandboxPolicy(
        mode=settings.EWSDASH_SANDBOX,
        mounts=tuple(mounts),
        network=repository.sandbox_network,
        bwrap=settings.EWSDASH_BWRAP,
    )


def sandbox_refusal(policy: SandboxPolicy) -> str | None:
    """Why a check must not run under `policy` on this machine (None: it may run)."""
    if not policy.confined:
        return None
    return sandbox_problem(policy.bwrap)


def unsandboxed() -> bool:
    return settings.EWSDASH_SANDBOX == "none"


def sandbox_warning() -> str:
    """The banner every page shows when checks run without a sandbox ("" when they don't)."""
    return UNSANDBOXED_WARNING if unsandboxed() else ""


@checks.register(checks.Tags.security, deploy=True)
def check_sandbox(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """`manage.py check --deploy`: checks must run in a sandbox that works on this host."""
    if unsandboxed():
        return [
            checks.Error(
                "EWSDASH_SANDBOX=none: validation runs the checked code without a sandbox.",
                hint="Install bubblewrap and unset EWSDASH_SANDBOX.",
                id="ewsdash.E101",
            )
        ]
    problem = sandbox_problem(settings.EWSDASH_BWRAP)
    if problem is not None:
        return [
            checks.Error(
                f"Workers on this host refuse to run checks: {problem}",
                hint="Install bubblewrap (apt-get install bubblewrap).",
                id="ewsdash.E102",
            )
        ]
    return []
