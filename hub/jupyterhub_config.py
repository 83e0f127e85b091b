# JupyterHub configuration of the "Conv2D from Scratch" course on one Linux machine.
#
# hub/setup_hub.py copies this file to PREFIX/etc/ with conv2d_hub.json beside it (where the
# venv, the exchange, the course and the two groups are); start the hub as root with
#     PREFIX/venv/bin/jupyterhub -f PREFIX/etc/jupyterhub_config.py
#
# Who may log in: the members of the students' and the instructors' groups, with their system
# password (PAM). Each user's JupyterLab runs as that user (LocalProcessSpawner) from the one
# shared venv. The group decides which global Jupyter configuration the server reads:
#   students     -> PREFIX/etc/jupyter/students: Assignment List; no formgrader or create-assignment
#   instructors  -> PREFIX/etc/jupyter/instructors: formgrader on the course directory, which
#                   appears in their home as ~/conv2d-course (a link the hub makes)
import grp
import json
import os
import pwd
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets)

ETC = Path(__file__).resolve().parent
SETTINGS = json.loads((ETC / "conv2d_hub.json").read_text())
PREFIX, VENV = Path(SETTINGS["prefix"]), Path(SETTINGS["venv"])
STUDENTS, INSTRUCTORS = SETTINGS["students_group"], SETTINGS["instructors_group"]
COURSE_LINK = "conv2d-course"     # in an instructor's home; instructors/nbgrader_config.py too

# --- the hub itself: its database, cookie secret and proxy pid in PREFIX/var (root only)
c.JupyterHub.bind_url = SETTINGS["bind_url"]
c.JupyterHub.db_url = f"sqlite:///{PREFIX / 'var' / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(PREFIX / "var" / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(PREFIX / "var" / "jupyterhub-proxy.pid")

# --- who may log in: system accounts in either group, system passwords
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {STUDENTS, INSTRUCTORS}
c.PAMAuthenticator.open_sessions = False      # no pam_systemd/pam_loginuid session needed

# --- each user's server: JupyterLab from the shared venv, as that user, in their home
c.Spawner.cmd = [str(VENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120                 # a busy machine starts JupyterLab slowly
c.Spawner.http_timeout = 120


def is_member(username, group):
    try:
        entry = grp.getgrnam(group)
    except KeyError:
        return False
    try:
        primary = pwd.getpwnam(username).pw_gid
    except KeyError:
        return False
    return username in entry.gr_mem or primary == entry.gr_gid


def private_home(spawner, name):
    """Close the user's home to everybody else (Debian's useradd makes it 0755): the work in
    it, the fetched assignment and nbgrader's cache of submissions, is theirs alone."""
    home = Path(pwd.getpwnam(name).pw_dir)
    mode = home.stat().st_mode & 0o7777
    if mode & 0o077:
        home.chmod(mode & ~0o077)
        spawner.log.info("conv2d: %s made private (%o -> %o)", home, mode, mode & ~0o077)


def course_link(spawner, name):
    """~/conv2d-course -> the course directory, for an instructor: formgrader only works on a
    course inside the server's root folder (the home), and the file browser shows it too."""
    entry = pwd.getpwnam(name)
    link = Path(entry.pw_dir) / COURSE_LINK
    if not link.is_symlink() and not link.exists():
        link.symlink_to(SETTINGS["course"])
        os.lchown(link, entry.pw_uid, entry.pw_gid)
        spawner.log.info("conv2d: %s -> %s", link, SETTINGS["course"])


def role_environment(spawner):
    """Give the server the configuration of its user's group (instructors win)."""
    name = spawner.user.name
    private_home(spawner, name)
    role = "instructors" if is_member(name, INSTRUCTORS) else "students"
    env = {
        # Searched before the venv's own config: our settings override nbgrader's defaults.
        "JUPYTER_CONFIG_PATH": str(ETC / "jupyter" / role),
        # `python`, `nbgrader` and `jupyter` in a terminal are the shared venv's.
        "PATH": os.pathsep.join([str(VENV / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    if role == "instructors":
        env["CONVBOOK_COURSE"] = SETTINGS["course"]      # `python -m convbook.cli` finds it
        course_link(spawner, name)
    spawner.environment = dict(spawner.environment, **env)
    spawner.log.info("conv2d: %s starts as one of the %s", name, role)


c.Spawner.pre_spawn_hook = role_environment
