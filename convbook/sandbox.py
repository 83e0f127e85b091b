"""Which sandbox student code runs in, and the pieces each mode is built from.

`sandbox_info()` says which mode new sessions use; `convbook.harness` starts the child in it.

* "bwrap+uid" (root, bubblewrap installed -- autograde on CI or an instructor's server): the
  child runs in bubblewrap with new pid/net/ipc/uts namespaces and a fresh root file system
  that holds only /usr (and the /bin, /lib... links), the Python installation, its
  site-packages, a few /etc files, /dev, /proc, an empty read-only /tmp and the scratch
  folder at /sandbox. Neither the course directory, nor solutions/, nor the gradebook even
  exist in there. After importing numpy it drops to a uid/gid of its own, from a pool
  (61000-61999 by default, `CONVBOOK_SANDBOX_UID_BASE`), locked for the session's lifetime,
  so it can write nothing but its scratch folder and cannot signal other students' children.
* "ns+uid" (root, no bubblewrap: any Linux that allows unshare(2), which root has): the child
  builds the same file system itself with unshare(2), mount(2) and chroot(2) (new mount, net,
  ipc and uts namespaces; /proc mounted with hidepid=2 so it sees only its own processes),
  then drops to its private uid, losing every capability. See `_child._enter_namespaces`.
* "uid" (root where namespaces are refused, e.g. a locked-down container): the same private
  uid and limits, without namespaces. The child sees the host file system with that uid's
  rights: 0700 directories (the course directory) are closed to it, world-readable ones such
  as the repository's solutions/ are NOT. Weak: autograde refuses it unless overridden.
* "bwrap" (not root, bubblewrap usable -- a reader's laptop, a JupyterHub user): the
  bubblewrap file system and namespaces, as the user.
* "limits" (not root, no bubblewrap): resource limits and the process group only. Weak: fine
  for a reader's own checks (a reader can only fool themselves), refused by autograde.

`CONVBOOK_SANDBOX` may name another mode allowed for this privilege level (tests use it).
"""
import functools
import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


class HarnessError(RuntimeError):
    """The sandbox could not run at all (installation problem, not the student's code)."""


class SandboxRefused(HarnessError):
    """Grading was asked for in a mode that cannot keep student code from the solutions."""


UID_BASE, UID_COUNT = 61000, 1000
SANDBOX_DIR = "/sandbox"     # where the scratch folder appears in bwrap and ns modes
MODES = ("bwrap+uid", "ns+uid", "uid", "bwrap", "limits")
# Modes in which student code cannot read what it must not (the course directory, the
# repository's solutions/, the gradebook): the only ones autograde accepts by default.
SOUND_MODES = ("bwrap+uid", "ns+uid", "bwrap")
ROOT_MODES = ("bwrap+uid", "ns+uid", "uid")
USER_MODES = ("bwrap", "limits")
BLOCKED_MODULES = ("tensorflow", "keras", "tf_keras", "torch", "jax", "jaxlib", "scipy")
# The override `autograde --allow-unsafe-sandbox` sets for the grading processes.
ALLOW_UNSAFE_ENV = "CONVBOOK_ALLOW_UNSAFE_SANDBOX"

# Only in "uid" mode, when the Python installation is not readable by other users (e.g.
# pyenv under /root): these are imported before the privilege drop, because afterwards the
# child could not read them. Everything else in the standard library stays importable in
# every other mode.
PREIMPORT_WHEN_HIDDEN = (
    "abc", "collections", "collections.abc", "copy", "dataclasses", "decimal", "enum",
    "fractions", "functools", "inspect", "itertools", "json", "math", "numbers", "operator",
    "random", "re", "statistics", "string", "textwrap", "types", "typing", "warnings",
    "weakref", "numpy.random", "numpy.fft", "numpy.linalg", "numpy.lib.stride_tricks",
)




# ----------------------------------------------------------------------------- the sandbox
_mode_lock = threading.Lock()
_mode_cache = {}


def _is_root():
    return os.geteuid() == 0


def _bwrap_path():
    return shutil.which("bwrap") or next(
        (p for p in ("/usr/bin/bwrap", "/bin/bwrap") if os.access(p, os.X_OK)), None)


@functools.lru_cache(maxsize=None)
def _python_paths():
    """Directories the child's Python needs: prefixes, stdlib, site-packages (real paths)."""
    import importlib.util
    import sysconfig

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.abspath(sys.executable)),
             os.path.dirname(os.path.realpath(sys.executable))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            paths.add(sysconfig.get_paths()[key])
        except KeyError:
            pass
    spec = importlib.util.find_spec("numpy")
    if spec and spec.origin:
        paths.add(os.path.dirname(os.path.dirname(spec.origin)))
    real = set()
    for p in paths:
        for q in (os.path.abspath(p), os.path.realpath(p)):
            if os.path.isdir(q):
                real.add(q.rstrip("/") or "/")
    # keep the outermost ones
    return tuple(sorted(p for p in real
                        if not any(o != p and p.startswith(o.rstrip("/") + "/") for o in real)))


_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/passwd",
              "/etc/group", "/etc/nsswitch.conf")


def _system_real():
    return [os.path.realpath(d) for d in _SYSTEM_DIRS if os.path.exists(d)] + list(_SYSTEM_DIRS)


def _under(path, roots):
    return any(path == r or path.startswith(r + "/") for r in roots)


def _bwrap_args(bwrap, root, scratch=None):
    """bubblewrap command line (up to and excluding the command) for a fresh sandbox."""
    args = [bwrap, "--die-with-parent"]
    if root:
        args += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                 "--unshare-cgroup-try"]
    else:
        args += ["--unshare-all"]
    for d in _SYSTEM_DIRS:
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    for f in _ETC_FILES:
        args += ["--ro-bind-try", f, f]
    args += ["--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu",
             "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    system = _system_real()
    made = {"/", "/tmp", "/proc", "/dev", "/etc", "/sys"}
    for path in _python_paths():
        if _under(path, system):
            continue
        parts = path.strip("/").split("/")
        for i in range(1, len(parts)):
            anc = "/" + "/".join(parts[:i])
            if anc not in made:
                args += ["--perms", "0755", "--dir", anc]
                made.add(anc)
        args += ["--ro-bind", path, path]
        made.add(path)
    if scratch is not None:
        # the child chdirs there itself, after dropping to the uid that owns it
        args += ["--bind", scratch, SANDBOX_DIR, "--chdir", "/"]
    if root:
        # keep only what the child needs to drop to the sandbox uid after importing numpy
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return args


def _probe_bwrap(bwrap, root):
    true = shutil.which("true") or "/bin/true"
    try:
        done = subprocess.run(_bwrap_args(bwrap, root) + ["--", true], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"{err}"
    return None if done.returncode == 0 else done.stderr.decode(errors="replace").strip()


def namespace_config(root_dir, scratch):
    """What `_child._enter_namespaces` needs: the same file system as `_bwrap_args`."""
    read_only = [d for d in _SYSTEM_DIRS if os.path.isdir(d) and not os.path.islink(d)]
    read_only += [p for p in _python_paths() if not _under(p, _system_real())]
    read_only += [f for f in _ETC_FILES if os.path.exists(f)]
    if os.path.isdir("/sys/devices/system/cpu"):
        read_only.append("/sys/devices/system/cpu")      # CPU count for numpy's BLAS
    return {"root": str(root_dir), "scratch": str(scratch), "inside": SANDBOX_DIR,
            "read_only": read_only,
            "symlinks": [(d, os.readlink(d)) for d in _SYSTEM_DIRS if os.path.islink(d)]}


def _probe_namespaces():
    """None if the "ns+uid" sandbox can be built here (as root), else why not."""
    from convbook import harness

    folder = tempfile.mkdtemp(prefix="convbook-probe-")
    try:
        os.makedirs(os.path.join(folder, "root"))
        os.makedirs(os.path.join(folder, "scratch"))
        config = namespace_config(os.path.join(folder, "root"), os.path.join(folder, "scratch"))
        done = subprocess.run([sys.executable, "-I", "-B", "-c", harness.child_source(), "probe",
                               json.dumps(config)], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"{err}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return None if done.returncode == 0 else (done.stderr.decode(errors="replace").strip()
                                              or f"exit status {done.returncode}")


def sandbox_info():
    """{"mode", "root", "bwrap", "reason", "sound"}: the sandbox new sessions use by default.

    `reason` says why a stronger mode is not available (None when nothing is missing)."""
    with _mode_lock:
        if "info" not in _mode_cache:
            root = _is_root()
            bwrap = _bwrap_path()
            reason = "bubblewrap (bwrap) is not installed" if bwrap is None else \
                _probe_bwrap(bwrap, root)
            usable = bwrap is not None and reason is None
            namespaces = None
            if root and not usable:
                namespaces = _probe_namespaces()
                if namespaces is not None:
                    reason += f"; unshare(2)/mount(2) failed: {namespaces}"
            if root:
                mode = "bwrap+uid" if usable else "ns+uid" if namespaces is None else "uid"
            else:
                mode = "bwrap" if usable else "limits"
            _mode_cache["info"] = {"mode": mode, "root": root, "bwrap": bwrap if usable else
                                   None, "reason": None if usable else reason,
                                   "namespaces": root and namespaces is None}
        info = dict(_mode_cache["info"])
    wanted = os.environ.get("CONVBOOK_SANDBOX")
    if wanted:
        info["mode"] = _check_mode(wanted, info)
        info["reason"] = "CONVBOOK_SANDBOX"
    return info


def _check_mode(mode, info):
    allowed = ROOT_MODES if info["root"] else USER_MODES
    if mode not in allowed:
        raise HarnessError(f"sandbox mode {mode!r} is not available "
                           f"{'as root' if info['root'] else 'for a normal user'}; "
                           f"use one of {allowed}")
    if mode.startswith("bwrap") and info["bwrap"] is None:
        raise HarnessError(f"sandbox mode {mode!r} needs bubblewrap: {info['reason']}")
    if mode == "ns+uid" and not info.get("namespaces"):
        raise HarnessError(f"sandbox mode 'ns+uid' is not available here: {info['reason']}")
    return mode


INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: "
                "`dnf install bubblewrap`; it is the sandbox Flatpak uses) or grade as root on "
                "a Linux that allows unshare(2)")


def refusal(info=None):
    """The message autograde stops with in a weak mode; None when the mode is sound."""
    info = info or sandbox_info()
    if info["mode"] in SOUND_MODES:
        return None
    why = {"uid": "as root without namespaces, a private uid still reads every world-readable "
                  "file, the repository's solutions/ included",
           "limits": "as a normal user without bubblewrap, student code runs with your rights "
                     "and can read the course directory, the solutions and the gradebook"}
    return (f"autograde refuses the '{info['mode']}' sandbox: {why.get(info['mode'], '')}. "
            f"({info.get('reason') or 'forced by CONVBOOK_SANDBOX'}.) To grade soundly, "
            f"{INSTALL_HINT}. To grade anyway, knowing a student can copy the reference "
            f"answers, pass --allow-unsafe-sandbox: the choice is recorded in the autograde "
            f"report and in the grades CSV.")


def unsafe_allowed():
    return os.environ.get(ALLOW_UNSAFE_ENV) == "1"


def require_sound_for_grading(info=None):
    """At autograde (nbgrader sets NBGRADER_EXECUTION=autograde), refuse a weak mode unless
    the instructor overrode it: raise SandboxRefused."""
    if os.environ.get("NBGRADER_EXECUTION") != "autograde" or unsafe_allowed():
        return
    message = refusal(info)
    if message:
        raise SandboxRefused(message)


def _accessible_to_others(path):
    """Can a user who is neither owner nor group member traverse to and read `path`?"""
    p = Path(path)
    for anc in [*reversed(p.parents), p]:
        try:
            mode = os.stat(anc).st_mode
        except OSError:
            return False
        if not mode & stat.S_IXOTH:
            return False
    return bool(os.stat(p).st_mode & stat.S_IROTH)


# ------------------------------------------------------------------------ sandbox uid pool
def _uid_lock_dir():
    for d in ("/run/convbook-sandbox",
              os.path.join(tempfile.gettempdir(), "convbook-sandbox-uids")):
        try:
            os.makedirs(d, mode=0o700, exist_ok=True)
            st = os.lstat(d)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and st.st_uid == 0 and not st.st_mode & 0o022:
            return d
    raise HarnessError("cannot create a root-owned lock folder for the sandbox uids")


def _id_taken(uid):
    import grp
    import pwd

    for lookup in (pwd.getpwuid, grp.getgrgid):
        try:
            lookup(uid)
            return True
        except KeyError:
            pass
    return False


def _allocate_uid():
    """(uid, lock fd): a uid/gid used by no account and by no other live session."""
    import fcntl

    base = int(os.environ.get("CONVBOOK_SANDBOX_UID_BASE", UID_BASE))
    folder = _uid_lock_dir()
    first = secrets.randbelow(UID_COUNT)
    for i in range(UID_COUNT):
        uid = base + (first + i) % UID_COUNT
        if _id_taken(uid):
            continue
        fd = os.open(os.path.join(folder, str(uid)),
                     os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _kill_uid_processes(uid)          # leftovers of a kernel that died
        return uid, fd
    raise HarnessError(f"all {UID_COUNT} sandbox uids from {base} are in use")


def _live_processes(uid):
    """Pids of the processes running as `uid` that are not zombies (Linux /proc)."""
    pids = []
    try:
        names = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return pids
    for pid in names:
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rpartition(b")")[2].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            pids.append(int(pid))
    return pids


def _kill_uid_processes(uid):
    """SIGKILL every process running as `uid` (only ever a sandbox uid we hold the lock of),
    including any that left the child's process group, until none is left alive."""
    for _ in range(200):
        pids = _live_processes(uid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.005)
