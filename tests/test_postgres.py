"""The gradebook in PostgreSQL: `course create --db-url postgresql://...` end to end.

The test starts its own PostgreSQL server (tests/pg_support.py: initdb + pg_ctl in a temp
folder, as the unprivileged `postgres` user when run as root, on a free port of 127.0.0.1,
password authentication), runs create / release / collect / autograde / grades against it, checks
the rows in the database itself, and stops the server. Missing PostgreSQL binaries are a
FAILURE in CI (.ci/run installs the Debian package `postgresql`) and a skip, with the reason
shown, on a machine without them (`make test` needs only python3 and make).
"""
import csv

import pytest

from conftest import require_sound_sandbox
from pg_support import DATABASE, PASSWORD, USER, postgres_server
from test_instructor import (MAX_AUTO, make_tiny_source, release_files, run_cli, solved_tiny,
                             with_answer, write_zip)

pytestmark = pytest.mark.xdist_group("postgres")


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server of our own (tests/pg_support.py); yields its URL and port."""
    with postgres_server(DATABASE) as server:
        yield server


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
