"""The gradebook in PostgreSQL: `course create --db-url postgresql://...` end to end.

The test starts its own PostgreSQL server (initdb + pg_ctl in a temp folder, as the
unprivileged `postgres` user when run as root, on a free port of 127.0.0.1, password
authentication), runs create / release / collect / autograde / grades against it, checks
the rows in the database itself, and stops the server. Missing PostgreSQL binaries are a
FAILURE in CI (.ci/run installs the Debian package `postgresql`) and a skip, with the reason
shown, on a machine without them (`make test` needs only python3 and make).
"""
import csv
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import require_sound_sandbox
from test_instructor import (MAX_AUTO, make_tiny_source, release_files, run_cli, solved_tiny,
                             with_answer, write_zip)

pytestmark = pytest.mark.xdist_group("postgres")

USER, PASSWORD, DATABASE = "convbook", "s3cret-Pw", "gradebook"


def pg_bin(name):
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                                                   reverse=True)), None)
    if found is None:
        why = (f"PostgreSQL's `{name}` was not found (PATH, /usr/lib/postgresql/*/bin): "
               "install the server (`apt-get install postgresql`; .ci/run does) to run this test")
        if os.environ.get("CI"):
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server of our own; yields its SQLAlchemy URL."""
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
            conn.execute(f"CREATE DATABASE {DATABASE}")
        yield {"url": f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/{DATABASE}",
               "port": port}
    finally:
        subprocess.run([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], cwd=folder,
                       capture_output=True, timeout=120, **run_as)
        shutil.rmtree(folder, ignore_errors=True)


def test_postgres_gradebook_end_to_end(postgres, tmp_path):
    import psycopg

    require_sound_sandbox("the PostgreSQL flow")

    course = tmp_path / "course"
    code, out = run_cli("course", "create", course, "--db-url", postgres["url"],
                        "--source", make_tiny_source(tmp_path / "src"))
    assert code == 0, out
    assert PASSWORD not in out                         # the URL is printed masked
    code, out = run_cli("release", "--course", course)
    assert code == 0, out

    lms = tmp_path / "lms"
    lms.mkdir()
    rel = release_files(course)
    good = dict(rel)
    good["convlib/tiny.py"] = solved_tiny().encode()
    good["00_tiny.ipynb"] = with_answer(rel["00_tiny.ipynb"], "An answer.")
    write_zip(lms / "ada.zip", good)
    write_zip(lms / "bob.zip", rel)
    code, out = run_cli("collect", "--zips", lms, "--course", course)
    assert code == 0, out

    code, out = run_cli("autograde", "--jobs", 2, "--course", course)
    assert code == 0, out
    assert "2 graded, 0 failed" in out
    code, out = run_cli("grades", "--csv", tmp_path / "grades.csv", "--course", course)
    assert code == 0, out
    with open(tmp_path / "grades.csv") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert float(rows["ada"]["autograded"]) == MAX_AUTO
    assert float(rows["bob"]["autograded"]) == 0
    assert float(rows["ada"]["max_autograded"]) == MAX_AUTO

    # Everything went to PostgreSQL, nothing to a SQLite file.
    assert not (course / "gradebook.db").exists()
    with psycopg.connect(host="127.0.0.1", port=postgres["port"], user=USER,
                         password=PASSWORD, dbname=DATABASE) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM student ORDER BY id")
            assert [r[0] for r in cur.fetchall()] == ["ada", "bob"]
            cur.execute("SELECT count(*) FROM submitted_assignment")
            assert cur.fetchone()[0] == 2
            cur.execute("SELECT count(*), sum(coalesce(auto_score, 0)) FROM grade")
            n, total = cur.fetchone()
            assert n == 2 * 4 and total == MAX_AUTO      # 4 grade cells per student
