"""A throwaway PostgreSQL cluster on a free loopback port, from Debian's postgresql package.

initdb refuses to run as root, so as root (CI) the cluster belongs to the `postgres` user.
"""

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER = "lab"
PASSWORD = "lab-test-password"  # a throwaway cluster's, never a deployment's


def postgres_bin() -> Path | None:
    """Debian keeps the server programs off PATH; nix puts them on it."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


@dataclass
class PostgresCluster:
    bin_dir: Path
    data_dir: Path
    port: int

    @property
    def as_postgres(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_postgres, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir}"
        self._ctl("start", "-w", "-t", "30", "-o", options, "-l", str(self.data_dir / "log"))

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast", "-w", "-t", "30")

    def create_database(self, name: str) -> str:
        subprocess.run(
            [
                str(self.bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                USER,
                name,
            ],
            check=True,
            capture_output=True,
            env={**os.environ, "PGPASSWORD": PASSWORD},
            timeout=30,
        )
        return self.dsn(name)

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def create_cluster(bin_dir: Path, port: int) -> PostgresCluster:
    root = Path(tempfile.mkdtemp(prefix="lab-pg-"))
    data_dir = root / "data"
    password_file = root / "password"
    password_file.write_text(PASSWORD)
    if os.geteuid() == 0:
        postgres = pwd.getpwnam("postgres")
        for path in (root, password_file):
            os.chown(path, postgres.pw_uid, postgres.pw_gid)
    cluster = PostgresCluster(bin_dir, data_dir, port)
    subprocess.run(
        [
            *cluster.as_postgres,
            str(bin_dir / "initdb"),
            "-D",
            str(data_dir),
            "-U",
            USER,
            f"--pwfile={password_file}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    # Throwaway data: durability settings off make the tests faster, nothing else changes.
    with (data_dir / "postgresql.conf").open("a") as conf:
        conf.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
    cluster.start()
    return cluster
