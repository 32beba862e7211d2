"""The sandbox a check's command runs in: bubblewrap (``bwrap``), or nothing when opted out.

Inside the sandbox a command sees:

``/sandbox/tree``
    a fresh export of the candidate's tree (no ``.git``, no remote), writable;
``/sandbox/artifacts/<check>``
    its own artifacts folder, writable; the folders of the checks it reads, read-only;
``/sandbox/home``, ``/sandbox/tmp``
    ``HOME`` and ``TMPDIR``, writable (all of ``/sandbox`` is the claim's scratch folder);
``/usr`` (and ``/bin``, ``/lib``... as the host links them), a few files of ``/etc``
    read-only: the system's programs and libraries, the users, the certificates;
the runtimes
    read-only at their own paths: the worker's Python (its virtualenv and the
    installation it was made from) and the folders an admin registered for the repository
    (a conda env, a venv);
``/proc``, ``/dev``, ``/tmp``
    a ``/proc`` of its own PID namespace (it sees its own processes only), a minimal
    ``/dev``; ``/tmp`` is a link to ``/sandbox/tmp``. Everything else is read-only.

Nothing else of the host exists in there: not ewsdash's var folder, the cache clones,
the artifact store, the database files, the broker, nor any other process's environment.
The command runs as an unprivileged user (uid 65534) in its own user, PID, IPC, UTS and
(unless an admin allowed network for the repository) network namespace; with no network
namespace of the host, 127.0.0.1 inside is the sandbox's own loopback. Its environment is
the one :func:`~monitoring.validation.process.safe_environment` builds.

Every process the command starts lives in the PID namespace; when the command's shell
exits, bwrap's init (PID 1 in there) exits and the kernel kills all of them, ``setsid``
or not. ``--die-with-parent`` does the same when the worker process dies (SIGKILL, OOM).

Nothing here imports Django: the worker passes the policy in (settings
``EWSDASH_SANDBOX``, the repository's mounts and network switch).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "INSIDE",
    "MODES",
    "SandboxLayout",
    "SandboxPolicy",
    "SandboxUnavailable",
    "bwrap_argv",
    "python_runtime",
    "sandbox_problem",
]

MODES = ("bwrap", "none")
INSIDE = Path("/sandbox")
SANDBOX_UID = 65534
INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install "
    "bubblewrap), or set EWSDASH_SANDBOX=none to run checks without a sandbox (unsafe)"
)
# Files of /etc a program may need; nothing else of /etc is visible.
ETC_FILES = (
    "alternatives",
    "ca-certificates",
    "ca-certificates.conf",
    "group",
    "host.conf",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "locale.alias",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "os-release",
    "passwd",
    "protocols",
    "services",
    "ssl",
    "timezone",
)
# With the network allowed, name resolution needs this one too.
ETC_NETWORK_FILES = ("resolv.conf", "gai.conf")
# Top-level folders of the system, read-only (a link to usr/ on merged-/usr systems).
SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "opt")


class SandboxUnavailable(RuntimeError):
    """The configured sandbox cannot run here: checks are refused, never run unsandboxed."""


@dataclass(frozen=True)
class SandboxPolicy:
    """How a check's command is confined.

    ``mode`` is ``"bwrap"`` or ``"none"`` (the operator's explicit opt-out);
    ``mounts`` are folders made visible read-only at their own path (the runtimes);
    ``network`` keeps the host's network (an admin's choice per repository).
    """

    mode: str = "bwrap"
    mounts: tuple[Path, ...] = ()
    network: bool = False
    bwrap: str = "bwrap"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown sandbox mode {self.mode!r}; expected one of {MODES}")

    @property
    def confined(self) -> bool:
        return self.mode != "none"


@dataclass(frozen=True)
class SandboxLayout:
    """Where the claim's folders are on the host, and where the command sees them.

    ``scratch`` holds ``tree/``, ``home/``, ``tmp/`` and ``artifacts/<check>/``; ``own``
    is the check's own artifacts folder name; ``reads`` the folders of the checks it reads
    (read-only inside).
    """

    scratch: Path
    own: str
    reads: Sequence[str] = field(default_factory=tuple)

    def inside(self, host: Path) -> Path:
        """The path a host path under ``scratch`` has in the sandbox."""
        return INSIDE / Path(host).relative_to(self.scratch)

    def translate(self, folders: Mapping[str, Path]) -> dict[str, Path]:
        return {name: self.inside(path) for name, path in folders.items()}


def python_runtime() -> tuple[Path, ...]:
    """The worker's Python, as mounts: its prefix (a virtualenv) and the base installation."""
    paths = []
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        real = Path(prefix).resolve()
        if real not in paths:
            paths.append(real)
    return tuple(paths)


def python_bin() -> Path:
    """The folder of the worker's ``python``, as the sandbox sees it (links resolved)."""
    return Path(sys.executable).parent.resolve()


def _covered(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def bwrap_argv(policy: SandboxPolicy, layout: SandboxLayout, *, cwd: Path) -> list[str]:
    """The ``bwrap`` arguments that confine a command (the command follows them)."""
    argv = [
        policy.bwrap,
        "--unshare-user",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
    ]
    if not policy.network:
        argv.append("--unshare-net")
    system: list[Path] = []
    for name in SYSTEM_DIRS:
        host = Path("/") / name
        if host.is_symlink():
            argv += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            argv += ["--ro-bind", str(host), str(host)]
            system.append(host)
    etc = ETC_FILES + (ETC_NETWORK_FILES if policy.network else ())
    for name in etc:
        host = Path("/etc") / name
        if host.exists():
            argv += ["--ro-bind", str(host), str(host)]
    mounted: list[Path] = list(system)
    for mount in (*python_runtime(), *policy.mounts):
        real = Path(mount).resolve()
        if _covered(real, mounted) or not real.exists():
            continue
        argv += ["--ro-bind", str(real), str(real)]
        mounted.append(real)
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += ["--bind", str(layout.scratch), str(INSIDE)]
    for name in layout.reads:
        folder = layout.scratch / "artifacts" / name
        argv += ["--ro-bind", str(folder), str(layout.inside(folder))]
    # /tmp is its scratch tmp/ (unless a runtime is mounted under /tmp: then /tmp holds it,
    # read-only, and TMPDIR still points at /sandbox/tmp); the root (bwrap's tmpfs) is
    # read-only once the mounts are set.
    if not any(path.is_relative_to("/tmp") for path in mounted):
        argv += ["--symlink", str(INSIDE / "tmp"), "/tmp"]
    argv += ["--remount-ro", "/"]
    argv += ["--chdir", str(cwd), "--"]
    return argv


@functools.lru_cache(maxsize=4)
def sandbox_problem(bwrap: str = "bwrap") -> str | None:
    """Why the bwrap sandbox cannot run on this machine, or None when it can.

    Runs ``true`` in a sandbox like a check's (namespaces, mounts) once per process.
    """
    program = shutil.which(bwrap)
    if program is None:
        return f"bubblewrap ({bwrap}) is not installed; {INSTALL_HINT}"
    try:
        with tempfile.TemporaryDirectory(prefix="ewsdash-sandbox-probe-") as folder:
            layout = SandboxLayout(scratch=Path(folder), own="probe")
            argv = bwrap_argv(SandboxPolicy(bwrap=program), layout, cwd=INSIDE)
            done = subprocess.run(
                [*argv, "/bin/true"],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=30,
                check=False,
            )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap ({program}) cannot start: {error}; {INSTALL_HINT}"
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip()[:300]
        return (
            f"bubblewrap ({program}) cannot make a sandbox here ({detail}); user namespaces "
            f"may be disabled (sysctl kernel.unprivileged_userns_clone=1); {INSTALL_HINT}"
        )
    return None


def demo_mode() -> str:
    """The mode `make demo` runs with: "bwrap" when it works here, else "none" (and why)."""
    problem = sandbox_problem()
    if problem is None:
        return "bwrap"
    print(
        f"make demo: {problem}.\n"
        "make demo: running the demo WITHOUT a sandbox (EWSDASH_SANDBOX=none); every page "
        "shows a warning. Do not do this with code you do not trust.",
        file=sys.stderr,
    )
    return "none"


if __name__ == "__main__":
    print(demo_mode())
