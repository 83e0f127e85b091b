#!/usr/bin/env python3
"""Set up the "Conv2D from Scratch" course on a JupyterHub on this machine (run as root).

    sudo python3 hub/setup_hub.py --instructor alice --db-url postgresql://...

Every step says what it does and is skipped when already done, so the script can be run again
after a `git pull` (the shared venv is reinstalled when the project changed) or to repair
permissions. Only the Python standard library is used: run it with the system python3.

Steps:
 1. the groups of instructors and students (groupadd; members are added with usermod -aG);
 2. one venv for every user, from the system python, with the project installed non-editable
    (its wheel ships convbook and convlib, never solutions/) and JupyterHub;
 3. the global Jupyter/nbgrader configuration of each group, and the hub's own configuration,
    under PREFIX/etc;
 4. nbgrader's exchange: a root-owned 1777 folder (nbgrader makes the course's folders in it);
 5. the repository's solutions/ and .git readable by the instructors' group only;
 6. (with --instructor) the course directory, group-owned and 2770, created by that instructor
    with `python -m convbook.cli course create --group`;
 7. configurable-http-proxy from npm, when it is missing.
"""
import argparse
import grp
import hashlib
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_REPO = HERE.parent
SETTINGS_NAME = "conv2d_hub.json"
COURSE_ID = "conv2d-from-scratch"       # convbook.layout.COURSE_ID (this script imports nothing)


class SetupError(Exception):
    """Something the administrator must fix; printed as one line."""


def say(step, message):
    print(f"[{step}] {message}", flush=True)


def run(cmd, **kwargs):
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
        raise SetupError(f"`{' '.join(map(str, cmd))}` failed:\n  " + "\n  ".join(tail))
    return done.stdout


# --------------------------------------------------------------------------- 1. groups
def ensure_group(name):
    try:
        grp.getgrnam(name)
        say("groups", f"{name}: exists")
    except KeyError:
        run(["groupadd", name])
        say("groups", f"{name}: created")


# --------------------------------------------------------------------------- 2. venv
def project_fingerprint(repo):
    """A hash of what goes into the wheel: a change means the venv must be reinstalled."""
    digest = hashlib.sha256()
    files = [repo / "pyproject.toml"] + sorted(
        p for package in ("convbook", "convlib") for p in (repo / package).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(str(path.relative_to(repo)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def ensure_venv(prefix, repo, python):
    venv = prefix / "venv"
    stamp = venv / ".conv2d-installed"
    wanted = project_fingerprint(repo)
    if stamp.is_file() and stamp.read_text().strip() == wanted:
        say("venv", f"{venv}: up to date with {repo}")
        return venv
    if not (venv / "bin" / "python").exists():
        say("venv", f"creating {venv} from {python}")
        run([python, "-m", "venv", venv])
    pip = [venv / "bin" / "python", "-m", "pip", "--quiet", "--disable-pip-version-check"]
    run(pip + ["install", "--upgrade", "pip"])
    with tempfile.TemporaryDirectory(prefix="conv2d-wheel-") as tmp:
        # A wheel built from a copy: the install is not editable, and the repository (and its
        # solutions/) need not stay readable by anyone but root and the instructors.
        say("venv", f"building the project's wheel from {repo}")
        run(pip + ["wheel", "--no-deps", "--wheel-dir", tmp, repo])
        wheel = next(Path(tmp).glob("conv2d_from_scratch-*.whl"))
        say("venv", "installing it with [hub] (JupyterHub, nbgrader, TensorFlow, psycopg); "
                    "a minute or two with a warm pip cache")
        run(pip + ["install", "--upgrade", "--force-reinstall", "--no-deps", wheel])
        run(pip + ["install", f"{wheel}[hub]"])
    stamp.write_text(wanted + "\n")
    make_world_readable(venv)
    say("venv", f"{venv}: installed")
    return venv


def make_world_readable(path):
    """The venv is root's and everybody's: read and execute for all, writes for root only."""
    for dirpath, dirnames, filenames in os.walk(path):
        os.chmod(dirpath, os.stat(dirpath).st_mode | 0o755)
        for name in filenames:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                mode = os.stat(full).st_mode
                os.chmod(full, mode | 0o444 | (0o111 if mode & 0o100 else 0))


# --------------------------------------------------------------------------- 3. configuration
def write_if_changed(path, text, mode=0o644):
    path.parent.mkdir(parents=True, exist_ok=True)
    changed = not path.is_file() or path.read_text() != text
    if changed:
        path.write_text(text)
    os.chmod(path, mode)
    return changed


def copy_tree_files(src, dest):
    changed = []
    for path in sorted(p for p in Path(src).rglob("*") if p.is_file()):
        if write_if_changed(dest / path.relative_to(src), path.read_text()):
            changed.append(str(path.relative_to(src)))
    return changed


def install_config(prefix, repo, settings):
    etc = prefix / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    os.chmod(etc, 0o755)
    changed = write_if_changed(etc / SETTINGS_NAME, json.dumps(settings, indent=2) + "\n")
    changed |= write_if_changed(etc / "jupyterhub_config.py",
                                (HERE / "jupyterhub_config.py").read_text())
    # Students: the project's course-mode JupyterLab settings (Assignment List on, instructor
    # tools off) plus the exchange's nbgrader settings. Instructors: formgrader on.
    students, instructors = etc / "jupyter" / "students", etc / "jupyter" / "instructors"
    if not (repo / "jupyter" / "course" / "jupyter_server_config.json").is_file():
        raise SetupError(f"{repo}/jupyter/course/ (the course-mode JupyterLab settings) is missing")
    changed |= bool(copy_tree_files(repo / "jupyter" / "course", students))
    changed |= bool(copy_tree_files(HERE / "students", students))
    changed |= bool(copy_tree_files(HERE / "instructors", instructors))
    make_world_readable(etc / "jupyter")
    var = prefix / "var"                                   # the hub's database and secrets
    var.mkdir(exist_ok=True)
    os.chmod(var, 0o700)
    say("config", f"{etc}: {'written' if changed else 'unchanged'} "
                  "(jupyterhub_config.py, jupyter/students, jupyter/instructors)")


# --------------------------------------------------------------------------- 4. exchange
def ensure_exchange(exchange):
    exchange.mkdir(parents=True, exist_ok=True)
    os.chown(exchange, 0, 0)
    # Everyone may create in it (nbgrader's release makes <course>/{inbound,outbound,feedback}
    # there, with their own modes); the sticky bit keeps anyone from removing what another user
    # made. nbgrader compares only the 0777 bits, so it leaves the sticky bit alone.
    os.chmod(exchange, stat.S_ISVTX | 0o777)
    say("exchange", f"{exchange}: root-owned, mode 1777")


# --------------------------------------------------------------------------- 5. repository
def restrict_to_group(path, gid):
    """Group-owned, readable by the group, nothing for others (root keeps ownership)."""
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, -1, gid)
        os.chmod(dirpath, (os.stat(dirpath).st_mode & 0o750) | stat.S_ISGID | 0o750)
        for name in filenames:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                os.chown(full, -1, gid)
                os.chmod(full, (os.stat(full).st_mode & 0o750) | 0o040)


def protect_repository(repo, gid, group):
    for name in ("solutions", ".git"):
        if (repo / name).exists():
            restrict_to_group(repo / name, gid)
            say("repository", f"{repo / name}: group {group} only (others: no access)")


# --------------------------------------------------------------------------- 6. course
def ensure_course(course, instructor, group, venv, repo, exchange, db_url):
    if (course / "convbook_course.json").is_file():
        say("course", f"{course}: exists (left as it is)")
        return
    if course.exists() and any(course.iterdir()):
        raise SetupError(f"{course} exists, is not empty and is not a course directory")
    try:
        user = pwd.getpwnam(instructor)
    except KeyError:
        raise SetupError(f"there is no user {instructor!r}: create the account first") from None
    if instructor not in grp.getgrnam(group).gr_mem and user.pw_gid != grp.getgrnam(group).gr_gid:
        raise SetupError(f"{instructor} is not in the group {group}: usermod -aG {group} {instructor}")
    course.parent.mkdir(parents=True, exist_ok=True)
    course.mkdir(exist_ok=True)
    os.chown(course, user.pw_uid, grp.getgrnam(group).gr_gid)
    cmd = ["runuser", "-u", instructor, "--", venv / "bin" / "python", "-m", "convbook.cli",
           "course", "create", course, "--group", group, "--source", repo / "solutions",
           "--exchange", exchange]
    if db_url:
        cmd += ["--db-url", db_url]
    out = run(cmd, cwd="/")
    say("course", out.strip().splitlines()[0])


# --------------------------------------------------------------------------- 7. proxy
def ensure_proxy(install):
    found = shutil.which("configurable-http-proxy")
    if found:
        say("proxy", f"configurable-http-proxy: {found}")
        return
    if not install or not shutil.which("npm"):
        raise SetupError("configurable-http-proxy is missing: apt-get install nodejs npm, then "
                         "npm install -g configurable-http-proxy (or rerun without --no-npm)")
    run(["npm", "install", "-g", "configurable-http-proxy"])
    say("proxy", "configurable-http-proxy: installed from npm")


# --------------------------------------------------------------------------- main
def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prefix", default="/opt/conv2d", help="venv and configuration (default: %(default)s)")
    p.add_argument("--repo", default=str(DEFAULT_REPO), help="the book's repository (default: %(default)s)")
    p.add_argument("--python", default="/usr/bin/python3", help="the system python the venv is made from")
    p.add_argument("--instructors-group", default="conv2d-instructors")
    p.add_argument("--students-group", default="conv2d-students")
    p.add_argument("--exchange", default="/srv/nbgrader/exchange")
    p.add_argument("--course", default="/srv/conv2d/course", help="the course directory")
    p.add_argument("--instructor", help="the account that owns the course; with it, the course "
                                        "directory is created")
    p.add_argument("--db-url", help="the gradebook, e.g. postgresql://grader:PW@127.0.0.1/conv2d "
                                    "(the course's config keeps it, readable by instructors only)")
    p.add_argument("--bind-url", default="http://127.0.0.1:8000",
                   help="where the hub listens (default: %(default)s; put TLS in front of it)")
    p.add_argument("--no-npm", action="store_true", help="never run npm (fail if the proxy is missing)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("error: run this as root (it creates groups, a venv in --prefix and the exchange)",
              file=sys.stderr)
        return 2
    prefix, repo = Path(args.prefix).resolve(), Path(args.repo).resolve()
    exchange, course = Path(args.exchange).resolve(), Path(args.course).resolve()
    if not (repo / "pyproject.toml").is_file() or not (repo / "solutions").is_dir():
        print(f"error: {repo} is not the book's repository (no pyproject.toml or solutions/)",
              file=sys.stderr)
        return 2
    settings = {"prefix": str(prefix), "venv": str(prefix / "venv"), "exchange": str(exchange),
                "course": str(course), "course_id": COURSE_ID, "bind_url": args.bind_url,
                "instructors_group": args.instructors_group,
                "students_group": args.students_group}
    try:
        for group in (args.instructors_group, args.students_group):
            ensure_group(group)
        prefix.mkdir(parents=True, exist_ok=True)
        os.chmod(prefix, 0o755)
        venv = ensure_venv(prefix, repo, args.python)
        install_config(prefix, repo, settings)
        ensure_exchange(exchange)
        gid = grp.getgrnam(args.instructors_group).gr_gid
        protect_repository(repo, gid, args.instructors_group)
        if args.instructor:
            ensure_course(course, args.instructor, args.instructors_group, venv, repo, exchange,
                          args.db_url)
        else:
            say("course", "no --instructor given: the course directory is not created")
        ensure_proxy(install=not args.no_npm)
    except SetupError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"Done. Start the hub with:\n  {prefix}/venv/bin/jupyterhub -f "
          f"{prefix}/etc/jupyterhub_config.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
