"""A PostgreSQL server of a test's own: initdb + pg_ctl in a temp folder, as the unprivileged
`postgres` user when run as root, on a free port of 127.0.0.1, password authentication.

    with postgres_server() as pg:      # {"url", "port", "user", "password", "database"}
        ...

Used by tests/test_postgres.py and tests/test_hub.py. Missing binaries are a FAILURE in CI
(.ci/run installs the Debian package `postgresql`) and a skip, with the reason shown, elsewhere.
"""
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

USER, PASSWORD, DATABASE = "convbook", "s3cret-Pw", "gradebook"


def pg_bin(name):
    found = shutil.which(name) or next(
        (p for p in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
         if os.access(p, os.X_OK)), None)
    if found is None:
        why = (f"PostgreSQL's `{name}` was not found, or you may not run it (PATH, "
               "/usr/lib/postgresql/*/bin): "
               "install the server (`apt-get install postgresql`; .ci/run does) to run this test")
        if os.environ.get("CI"):
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def postgres_server(database=DATABASE):
    """Start a server with one database; stop it and delete its files on the way out."""
    initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
    import psycopg   # SQLAlchemy 2.1's driver for postgresql:// URLs (psycopg 3)

    as_root = os.geteuid() == 0
    run_as = {}
    folder = Path(tempfile.mkdtemp(prefix="convbook-pg-"))
    if as_root:                       # initdb refuses to run as root
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root but there is no `postgres` user to run the server "
                        "(the Debian package `postgresql` creates it)", pytrace=False)
        os.chown(folder, account.pw_uid, account.pw_gid)
        run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    data, log = folder / "data", folder / "server.log"
    (folder / "pw").write_text(PASSWORD + "\n")
    if as_root:
        os.chown(folder / "pw", run_as["user"], run_as["group"])
    port = free_port()

    def run(*cmd):
        done = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=180,
                              **run_as)
        assert done.returncode == 0, f"{cmd[0]} failed:\n{done.stdout}\n{done.stderr}"

    run(initdb, "-D", str(data), "-U", USER, f"--pwfile={folder / 'pw'}",
        "--auth=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C")
    run(pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "120", "-o",
        f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off", "start")
    try:
        with psycopg.connect(host="127.0.0.1", port=port, user=USER, password=PASSWORD,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {database}")
        yield {"url": f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/{database}",
               "port": port, "user": USER, "password": PASSWORD, "database": database}
    finally:
        subprocess.run([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], cwd=folder,
                       capture_output=True, timeout=120, **run_as)
        shutil.rmtree(folder, ignore_errors=True)
