"""The project's own embedded PostgreSQL + PostGIS cluster.

When ``DATABASE_URL`` is not set, ``psq`` runs a private cluster under ``.psq/``
(DESIGN.md section 3): ``initdb`` once, then ``pg_ctl start`` on a free port of
127.0.0.1, with password authentication and no Unix socket (socket paths are
limited to about 100 characters, and a clone can live anywhere).

PostgreSQL refuses to run as root, so when the caller is root the cluster runs as
the ``postgres`` system user and its data folder and log belong to that user.

Example (what ``psq db start`` does)::

    cluster = EmbeddedCluster.for_project()
    url = cluster.start()          # postgresql+psycopg://psq:...@127.0.0.1:PORT/psq
    cluster.status().running       # True
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
from pathlib import Path

from geo.errors import PsqError
from geo.settings import PROJECT_ROOT

DATABASE_NAME = "psq"
SUPERUSER = "psq"


class ClusterError(PsqError, RuntimeError):
    """The embedded cluster cannot be set up or started; the message says why."""


@dataclasses.dataclass(frozen=True)
class ClusterStatus:
    running: bool
    data_dir: Path
    port: int | None
    url: str | None
    log_file: Path


def _postgres_bin_dir() -> Path:
    """Find the newest installed PostgreSQL server's bin folder.

    ``PSQ_PG_BIN`` overrides; otherwise Debian's layout
    (/usr/lib/postgresql/<major>/bin), then ``pg_config --bindir``.
    """
    if os.environ.get("PSQ_PG_BIN"):
        return Path(os.environ["PSQ_PG_BIN"])
    debian = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if debian:
        return debian[-1]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidate = Path(out.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    raise ClusterError(
        "No PostgreSQL server found (looked in /usr/lib/postgresql/*/bin and pg_config): "
        "install Debian's postgresql package or set DATABASE_URL."
    )


def postgres_major(bin_dir: Path) -> int:
    out = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True, text=True)
    # "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    return int(out.stdout.split(")")[1].strip().split(".")[0])


def check_postgis_installed(bin_dir: Path) -> None:
    """Raise a clear error when the PostGIS extension is missing for this server."""
    major = postgres_major(bin_dir)
    candidates = [Path(f"/usr/share/postgresql/{major}/extension/postgis.control")]
    pg_config = bin_dir / "pg_config"
    if pg_config.exists():
        share = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True)
        candidates.append(Path(share.stdout.strip()) / "extension" / "postgis.control")
    if not any(c.exists() for c in candidates):
        raise ClusterError(
            f"PostGIS is not installed for PostgreSQL {major}: run `make setup` as root "
            f"(it installs postgresql-{major}-postgis-3) or `sudo apt-get install "
            f"postgresql-{major}-postgis-3`."
        )


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedCluster:
    """A private PostgreSQL cluster kept in a folder of the project.

    Parameters
    ----------
    home : Path
        The folder holding the cluster's state (``.psq/`` by default): data folder,
        log, port and password files.
    """

    def __init__(self, home: Path):
        self.home = Path(home).resolve()
        self.run_as = "postgres" if os.geteuid() == 0 else None
        self.data_dir = self._choose_data_dir()
        self.log_file = self.data_dir.parent / "postgres.log"
        self.port_file = self.home / "port"
        self.password_file = self.home / "password"

    @classmethod
    def for_project(cls) -> "EmbeddedCluster":
        return cls(Path(os.environ.get("PSQ_HOME", PROJECT_ROOT / ".psq")))

    # -- where the data lives -------------------------------------------------
    def _choose_data_dir(self) -> Path:
        """The data folder, under ``home`` unless the server's user cannot reach it.

        As root, the cluster runs as ``postgres``, which may not be able to enter a
        clone under /root (mode 700). Then the data folder goes to a folder of
        /var/tmp named after the project's path, so the same clone always finds it.
        """
        local = self.home / "data"
        if self.run_as is None or _user_can_reach(self.run_as, self.home.parent):
            return local
        digest = hashlib.sha1(str(self.home).encode()).hexdigest()[:12]
        return Path("/var/tmp") / f"psq-{digest}" / "data"

    # -- commands -------------------------------------------------------------
    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        if self.run_as:
            args = ["runuser", "-u", self.run_as, "--", *args]
        result = subprocess.run(args, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise ClusterError(
                f"`{' '.join(args)}` failed: {(result.stderr or result.stdout).strip()}"
                + self._log_tail()
            )
        return result

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()[-5:]
        except OSError:
            return ""
        return "\nLast lines of " + str(self.log_file) + ":\n" + "\n".join(lines)

    def _prepare_folder(self, folder: Path) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / ".write-test"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise ClusterError(
                f"The data folder {folder} is not writable ({exc.strerror}): set PSQ_HOME "
                "to a writable folder or fix its permissions."
            ) from None
        if self.run_as:
            user = pwd.getpwnam(self.run_as)
            os.chown(folder, user.pw_uid, user.pw_gid)
            os.chmod(folder, 0o700)

    def password(self) -> str:
        if not self.password_file.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            self.password_file.write_text(secrets.token_urlsafe(24))
            self.password_file.chmod(0o600)
        return self.password_file.read_text().strip()

    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        bin_dir = _postgres_bin_dir()
        check_postgis_installed(bin_dir)
        self._prepare_folder(self.home)
        self._prepare_folder(self.data_dir.parent)
        self._prepare_folder(self.data_dir)
        pwfile = self.data_dir.parent / "initdb.pw"
        pwfile.write_text(self.password() + "\n")
        if self.run_as:
            user = pwd.getpwnam(self.run_as)
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        pwfile.chmod(0o600)
        try:
            self._run([
                str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
                f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8",
                "--locale=C.UTF-8", "--no-instructions",
            ])
        finally:
            pwfile.unlink(missing_ok=True)
        # A private development cluster: durability of the last commit before a crash
        # matters less than load speed, and synchronous_commit=off cannot corrupt data.
        with open(self.data_dir / "postgresql.auto.conf", "a") as conf:
            conf.write(
                "listen_addresses = '127.0.0.1'\n"
                "unix_socket_directories = ''\n"
                "synchronous_commit = off\n"
                "max_connections = 100\n"
            )

    def running_port(self) -> int | None:
        """The port of the running server, from its postmaster.pid, or None."""
        if not self.initialized():
            return None
        result = self._run([str(_postgres_bin_dir() / "pg_ctl"), "status", "-D", str(self.data_dir)], check=False)
        if result.returncode != 0:
            return None
        try:
            # Line 4 of postmaster.pid is the port (PostgreSQL's documented layout).
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[3])
        except (OSError, IndexError, ValueError):
            return int(self.port_file.read_text()) if self.port_file.exists() else None

    def _pick_port(self) -> int:
        wanted = os.environ.get("PSQ_PORT")
        if wanted:
            port = int(wanted)
            if not port_is_free(port):
                raise ClusterError(
                    f"Port {port} (PSQ_PORT) is already taken on 127.0.0.1: choose another "
                    "or unset PSQ_PORT to let psq pick a free one."
                )
            return port
        if self.port_file.exists():
            previous = int(self.port_file.read_text())
            if port_is_free(previous):
                return previous
        return free_port()

    def start(self) -> str:
        """Start the cluster (initialising it the first time) and return its URL."""
        if not self.initialized():
            self.init()
        else:
            check_postgis_installed(_postgres_bin_dir())
        port = self.running_port()
        if port is None:
            port = self._pick_port()
            self.log_file.touch()
            if self.run_as:
                user = pwd.getpwnam(self.run_as)
                os.chown(self.log_file, user.pw_uid, user.pw_gid)
            self._run([
                str(_postgres_bin_dir() / "pg_ctl"), "start", "-D", str(self.data_dir),
                "-l", str(self.log_file), "-w", "-t", "60", "-o", f"-p {port}",
            ])
            self.port_file.write_text(str(port))
        self._ensure_database(port)
        return self.url(port)

    def stop(self) -> bool:
        """Stop the cluster; return False when it was not running."""
        if self.running_port() is None:
            return False
        self._run([str(_postgres_bin_dir() / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast", "-w"])
        return True

    def url(self, port: int | None = None, database: str = DATABASE_NAME) -> str:
        port = port or self.running_port()
        return f"postgresql+psycopg://{SUPERUSER}:{self.password()}@127.0.0.1:{port}/{database}"

    def status(self) -> ClusterStatus:
        port = self.running_port()
        return ClusterStatus(
            running=port is not None, data_dir=self.data_dir, port=port,
            url=self.url(port) if port else None, log_file=self.log_file,
        )

    def _ensure_database(self, port: int) -> None:
        import psycopg

        conninfo = f"host=127.0.0.1 port={port} user={SUPERUSER} password={self.password()} dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def _user_can_reach(user: str, folder: Path) -> bool:
    """Whether ``user`` can enter ``folder`` (every parent must be searchable)."""
    result = subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(folder)], capture_output=True)
    return result.returncode == 0
