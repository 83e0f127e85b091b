"""hub/z2jh: the Kubernetes (Zero to JupyterHub) deployment files, checked offline.

Nothing here can deploy: this machine has no Kubernetes and no Docker engine. What can be
checked is checked: the YAML parses; the hub values are valid for the chart when a copy of
the chart is at hand (Z2JH_CHART_DIR); names that several files must agree on do; the student
image copies nothing but the packaged folders and configuration; nbgrader_config.py gives
each exchange variant, in a student pod and when pulled into a course's configuration;
the guide names only files that exist.
"""
import copy
import functools
import http.server
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest

yaml = pytest.importorskip(
    "yaml", reason="PyYAML is not installed: `pip install pyyaml` to check the YAML files")

ROOT = Path(__file__).resolve().parents[1]
Z2JH = ROOT / "hub" / "z2jh"
GUIDE = Z2JH / "README.md"
GiB = 1 << 30
COURSE_ID = "conv2d-from-scratch"       # convbook.layout.COURSE_ID, as the course is named
CHART_FILES = {"values.schema.yaml"}     # files of the Helm chart the guide refers to
# What the student image may take from the build context: the packaged folders, the files
# the wheel's metadata needs, and configuration. Never solutions/, tests/, book/, ...
STUDENT_IMAGE_SOURCES = {"pyproject.toml", "README.md", "convbook/", "convlib/",
                         "jupyter/course/labconfig/page_config.json",
                         "jupyter/course/labconfig/default_setting_overrides.json",
                         "jupyter/course/jupyter_server_config.json",
                         "hub/z2jh/nbgrader_config.py"}


def load(name):
    return yaml.safe_load((Z2JH / name).read_text())


def load_all(name):
    return [doc for doc in yaml.safe_load_all((Z2JH / name).read_text()) if doc is not None]


def grader_manifest(kind):
    found = [doc for doc in load_all("grader.yaml") if doc["kind"] == kind]
    assert len(found) == 1, f"grader.yaml should hold one {kind}, has {len(found)}"
    return found[0]


def grader_container():
    (container,) = grader_manifest("Deployment")["spec"]["template"]["spec"]["containers"]
    return container


def grader_env():
    return {e["name"]: e for e in grader_container()["env"]}


def quantity(text):
    """A Kubernetes memory quantity ("3G", "12Gi", "512Mi", 1e9) in bytes."""
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": GiB, "K": 10**3, "M": 10**6, "G": 10**9}
    match = re.fullmatch(r"([0-9.]+)([KMG]i?)?", str(text))
    assert match, f"not a memory quantity: {text!r}"
    return float(match.group(1)) * units.get(match.group(2), 1)


# ----------------------------------------------------------------------------- YAML
def test_every_yaml_file_parses_into_mappings():
    names = sorted(p.name for p in Z2JH.glob("*.yaml"))
    assert {"values.yaml", "values-shared-exchange.yaml", "ngshare-values.yaml", "grader.yaml",
            "shared-exchange.yaml"} <= set(names)
    for name in names:
        docs = load_all(name)
        assert docs and all(isinstance(d, dict) and d for d in docs), \
            f"{name}: empty or not a mapping"


def helm_merge(base, override):
    """Helm's merge of values files: maps merge key by key, lists and scalars replace, and
    null removes a key."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = helm_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@pytest.fixture(scope="module")
def chart():
    """(default values, schema) of the chart's jupyterhub/ folder named by Z2JH_CHART_DIR."""
    folder = os.environ.get("Z2JH_CHART_DIR")
    if not folder:
        pytest.skip("Z2JH_CHART_DIR is not set: point it at the jupyterhub/ folder of a "
                    "zero-to-jupyterhub-k8s checkout (values.yaml, values.schema.yaml) to "
                    "validate values.yaml against the chart's schema")
    folder = Path(folder)
    missing = [n for n in ("values.yaml", "values.schema.yaml") if not (folder / n).is_file()]
    assert not missing, f"Z2JH_CHART_DIR={folder} lacks {missing}"
    return (yaml.safe_load((folder / "values.yaml").read_text()),
            yaml.safe_load((folder / "values.schema.yaml").read_text()))


def schema_errors(schema, values):
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(values)]


@pytest.mark.parametrize("overlays", [["values.yaml"],
                                      ["values.yaml", "values-shared-exchange.yaml"]],
                         ids=["ngshare", "shared-volume"])
def test_values_are_valid_for_the_chart(chart, overlays):
    defaults, schema = chart
    merged = defaults
    for name in overlays:
        merged = helm_merge(merged, load(name))
    assert schema_errors(schema, merged) == []
    # The schema does bite: a misspelt key under singleuser.memory is refused.
    broken = helm_merge(merged, {"singleuser": {"memory": {"limt": "3G"}}})
    assert any("limt" in e for e in schema_errors(schema, broken))


# ----------------------------------------------------------------------------- the hub
def test_student_pods_are_sized_for_a_keras_kernel_and_the_sandbox():
    from convbook.harness import DEFAULT_MEMORY

    single = load("values.yaml")["singleuser"]
    assert 0 < single["cpu"]["guarantee"] <= single["cpu"]["limit"]
    guarantee, limit = (quantity(single["memory"][k]) for k in ("guarantee", "limit"))
    assert 0 < guarantee <= limit
    # a kernel with Keras (~0.6 GB) and one sandboxed child at its address-space cap
    assert limit >= DEFAULT_MEMORY + 0.6e9
    assert single["image"]["tag"] not in ("latest", "", None)


def test_student_pods_get_no_privileges():
    values = load("values.yaml")
    single = values["singleuser"]
    assert single.get("uid", 1000) != 0
    assert single.get("allowPrivilegeEscalation", False) is False
    assert "privileged" not in json.dumps(single)
    assert values["hub"]["config"]["JupyterHub"]["admin_access"] is False


def test_the_hub_keeps_its_state_in_postgres_and_no_secret_is_committed():
    values = load("values.yaml")
    db = values["hub"]["db"]
    assert db["type"] == "postgres" and db["url"].startswith("postgresql")
    assert "password" not in db and ":" not in db["url"].split("@")[0].split("//")[1]
    for service in values["hub"]["services"].values():
        assert "api_token" not in service and "apiToken" not in service
    assert "hub_api_token" not in load("ngshare-values.yaml")["ngshare"]


def test_instructors_role_reaches_only_the_students_group():
    values = load("values.yaml")
    groups = values["hub"]["config"]["JupyterHub"]["load_groups"]
    role = values["hub"]["loadRoles"]["instructors"]
    assert set(role["groups"]) <= set(groups)
    for scope in role["scopes"]:
        assert scope == "admin-ui" or scope.endswith("!group=students"), scope


# ----------------------------------------------------------------------------- agreement
def test_user_pods_may_reach_the_ngshare_pod_and_nothing_more():
    values = load("values.yaml")
    (rule,) = values["singleuser"]["networkPolicy"]["egress"]
    (peer,) = rule["to"]
    assert set(peer) == {"podSelector"}        # no ipBlock: no private addresses opened
    assert peer["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "ngshare"}
    assert [p["port"] for p in rule["ports"]] == [8080]
    url = values["singleuser"]["extraEnv"]["CONVBOOK_NGSHARE_URL"]
    assert url == grader_env()["CONVBOOK_NGSHARE_URL"]["value"]
    assert url.startswith(values["hub"]["services"]["ngshare"]["url"] + "/services/ngshare")


def test_the_grading_pod_acts_as_the_hub_service_values_declare():
    services = load("values.yaml")["hub"]["services"]
    env = grader_env()
    name = env["JUPYTERHUB_USER"]["value"]
    assert services[name] == {}                         # identity only: no url, no command
    secret = env["JUPYTERHUB_API_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert secret == {"name": "hub", "key": f"hub.services.{name}.apiToken"}
    assert name in GUIDE.read_text()                    # the guide makes it a course instructor


def test_the_grading_pod_is_root_privileged_isolated_and_sized_for_its_workers():
    container = grader_container()
    assert container["securityContext"] == {"runAsUser": 0, "privileged": True}
    pod = grader_manifest("Deployment")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    policy = grader_manifest("NetworkPolicy")
    assert policy["spec"]["policyTypes"] == ["Ingress"] and policy["spec"]["ingress"] == []
    pod_labels = grader_manifest("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"] == pod_labels
    resources = container["resources"]
    jobs = int(resources["requests"]["cpu"])
    assert resources["limits"]["cpu"] == resources["requests"]["cpu"]
    # the guide's rule: 1 GiB + 2.5 GiB per grading worker (one worker per core)
    assert quantity(resources["limits"]["memory"]) >= GiB + jobs * 2.5 * GiB
    assert f"--jobs {jobs}" in GUIDE.read_text()


def test_the_course_folder_is_inside_the_mounted_volume():
    container = grader_container()
    course = Path(grader_env()["CONVBOOK_COURSE"]["value"])
    (mount,) = container["volumeMounts"]
    # a fresh volume may hold lost+found, and `course create` wants an empty folder
    assert course.parent == Path(mount["mountPath"])
    assert str(course) in GUIDE.read_text()


# ----------------------------------------------------------------------------- the images
def dockerfile_instructions(name):
    """(instruction, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (Z2JH / name).read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def copy_sources(args):
    """The build-context sources of a COPY/ADD (None for COPY --from=stage)."""
    words = args.split()
    if any(w.startswith("--from=") for w in words):
        return None
    words = [w for w in words if not w.startswith("--")]
    return words[:-1]


def test_the_student_image_copies_no_solutions():
    instructions = dockerfile_instructions("Dockerfile")
    copied = []
    for op, args in instructions:
        assert op.upper() != "ADD", "ADD can fetch URLs and unpack archives: use COPY"
        if op.upper() == "COPY" and copy_sources(args) is not None:
            copied += copy_sources(args)
    assert copied and set(copied) <= STUDENT_IMAGE_SOURCES, set(copied) - STUDENT_IMAGE_SOURCES
    # the final stage receives only the wheel from the first stage
    stages = [i for i, (op, _) in enumerate(instructions) if op.upper() == "FROM"]
    assert len(stages) == 2
    final = instructions[stages[-1]:]
    from_stage = [args for op, args in final if op.upper() == "COPY" and "--from=" in args]
    assert from_stage == ["--from=wheel /tmp/dist/ /tmp/dist/"]
    for op, args in final:
        if op.upper() == "COPY" and "--from=" not in args:
            assert all(not s.startswith(("convbook", "convlib", "pyproject")) for s in
                       copy_sources(args)), args


def test_the_student_image_packs_every_package_the_project_ships():
    try:
        import tomllib
    except ModuleNotFoundError:      # Python 3.10
        import tomli as tomllib
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"]["find"]["include"]
    tops = {pattern.rstrip("*") for pattern in include}
    assert {f"{top}/" for top in tops} <= STUDENT_IMAGE_SOURCES


def test_the_student_build_context_leaves_everything_else_out():
    rules = [line.strip() for line in (Z2JH / "Dockerfile.dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert rules[0] == "*"                                  # exclude all, then allow
    allowed = {r[1:] for r in rules if r.startswith("!")}
    assert not any(a.startswith(("solutions", "tests", "book", "workspace", "course"))
                   for a in allowed)
    for source in STUDENT_IMAGE_SOURCES:
        assert any(source == a or source.startswith(a.rstrip("/") + "/") for a in allowed), source


def test_the_grader_build_context_leaves_local_state_out():
    rules = {line.strip() for line in
             (Z2JH / "Dockerfile.grader.dockerignore").read_text().splitlines()}
    # a reader's work, a local course (gradebook, submissions) and the 2 GB venv
    assert {"workspace", "course", ".venv", ".git"} <= rules


def test_the_images_install_the_course_mode_and_the_exchange_settings():
    student = (Z2JH / "Dockerfile").read_text()
    grader = (Z2JH / "Dockerfile.grader").read_text()
    for text in (student, grader):
        assert "hub/z2jh/nbgrader_config.py /etc/jupyter/nbgrader_config.py" in text
        assert "bubblewrap" in text
        assert '--no-deps "ngshare_exchange==' in text
    assert "[book]" in student and "[instructor]" in grader
    for source in STUDENT_IMAGE_SOURCES:
        if source.startswith("jupyter/course/"):
            assert source in student and (ROOT / source).is_file(), source


# ----------------------------------------------------------------------------- nbgrader_config.py
@pytest.fixture
def fake_ngshare(monkeypatch):
    """A stand-in for ngshare_exchange that records how the config calls it."""
    calls = []
    module = types.ModuleType("ngshare_exchange")
    module.configureExchange = lambda c, url=None: calls.append(url)
    monkeypatch.setitem(sys.modules, "ngshare_exchange", module)
    return calls


def student_config(monkeypatch, **env):
    from traitlets.config.loader import PyFileConfigLoader

    for key in ("CONVBOOK_EXCHANGE", "CONVBOOK_NGSHARE_URL", "CONVBOOK_EXCHANGE_ROOT",
                "CONVBOOK_COURSE_ID"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return PyFileConfigLoader("nbgrader_config.py", path=str(Z2JH)).load_config()


def test_config_uses_ngshare_by_default(monkeypatch, fake_ngshare):
    from convbook.layout import COURSE_ID

    c = student_config(monkeypatch)
    assert c.CourseDirectory.course_id == COURSE_ID
    assert fake_ngshare == ["http://ngshare:8080/services/ngshare"]
    assert "root" not in c.Exchange


def test_config_takes_the_ngshare_url_from_the_pod(monkeypatch, fake_ngshare):
    student_config(monkeypatch, CONVBOOK_NGSHARE_URL="http://ngshare.other:8080/services/ngshare")
    assert fake_ngshare == ["http://ngshare.other:8080/services/ngshare"]


def test_config_shared_volume_variant(monkeypatch, fake_ngshare):
    c = student_config(monkeypatch, CONVBOOK_EXCHANGE="shared")
    assert c.Exchange.root == "/srv/nbgrader/exchange"
    assert fake_ngshare == []
    mount = load("values-shared-exchange.yaml")["singleuser"]["storage"]["extraVolumeMounts"]
    assert [m["mountPath"] for m in mount] == [c.Exchange.root]


def test_config_refuses_an_unknown_exchange(monkeypatch):
    with pytest.raises(ValueError, match=r"CONVBOOK_EXCHANGE='nfs'.*ngshare, shared"):
        student_config(monkeypatch, CONVBOOK_EXCHANGE="nfs")


def course_config_with_subconfig(tmp_path, monkeypatch, **env):
    """A course's nbgrader_config.py as `course create` writes it, plus the line step 5 of
    the guide appends; read back the way the instructor CLI reads it. The subconfig is read
    from a copy of nbgrader_config.py standing where the images put it (/etc/jupyter)."""
    from convbook import course as coursemod

    course, etc = tmp_path / "course", tmp_path / "etc-jupyter"
    course.mkdir()
    etc.mkdir()
    (etc / "nbgrader_config.py").write_text((Z2JH / "nbgrader_config.py").read_text())
    (course / coursemod.CONFIG_NAME).write_text(coursemod.render_config(
        course, coursemod.default_db_url(course), course / "exchange", 120))
    (course / coursemod.SETTINGS_NAME).write_text("{}")
    line = re.search(r"^echo '(load_subconfig\(.*\))' >>", GUIDE.read_text(), re.M).group(1)
    assert line == 'load_subconfig("nbgrader_config.py", path="/etc/jupyter")'
    with open(course / coursemod.CONFIG_NAME, "a") as f:
        f.write("\n" + line.replace("/etc/jupyter", str(etc)) + "\n")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return coursemod.load_config(course)


def test_course_config_pulls_in_the_ngshare_exchange(tmp_path, monkeypatch, fake_ngshare):
    monkeypatch.delenv("CONVBOOK_EXCHANGE", raising=False)
    c = course_config_with_subconfig(tmp_path, monkeypatch)
    assert fake_ngshare == ["http://ngshare:8080/services/ngshare"]
    assert c.CourseDirectory.course_id == "conv2d-from-scratch"
    assert c.CourseDirectory.db_url.startswith("sqlite:///")          # the course's own
    assert c.Autograde.sanitize_preprocessors                          # the course's own


def test_course_config_pulls_in_the_shared_exchange_root(tmp_path, monkeypatch, fake_ngshare):
    c = course_config_with_subconfig(tmp_path, monkeypatch, CONVBOOK_EXCHANGE="shared")
    assert c.Exchange.root == "/srv/nbgrader/exchange"                 # not course/exchange


def test_real_ngshare_exchange_configures_nbgrader(monkeypatch):
    """With the real package (the images install it with --no-deps): nbgrader's exchange
    factory hands out ngshare's classes, pointed at the configured URL."""
    # ngshare_exchange reads the user name when it is imported (a hub pod always has it)
    monkeypatch.setenv("JUPYTERHUB_USER", "student1")
    pytest.importorskip("ngshare_exchange", reason="ngshare_exchange is not installed here "
                        "(the images install it; `pip install --no-deps ngshare_exchange==0.5.3` "
                        "and rapidfuzz to run this)")
    from nbgrader.exchange import ExchangeFactory

    c = student_config(monkeypatch, CONVBOOK_NGSHARE_URL="http://ngshare:8080/services/ngshare")
    factory = ExchangeFactory(config=c)
    assert factory.collect.__module__ == "ngshare_exchange.collect"
    assert factory.exchange.__module__ == "ngshare_exchange.exchange"
    assert factory.exchange._ngshare_url == "http://ngshare:8080/services/ngshare"


# ----------------------------------------------------------------------------- the guide
def test_the_guide_names_only_files_that_exist():
    text = GUIDE.read_text()
    named = set(re.findall(r"`([\w./-]+\.(?:ya?ml|py|md|dockerignore)|Dockerfile[\w.]*|hub/)`",
                           text))
    assert {"values.yaml", "grader.yaml", "Dockerfile", "Dockerfile.grader",
            "nbgrader_config.py"} <= named
    # paths inside an image (absolute) and the chart's own files are not ours to check
    ours = {n for n in named if not n.startswith("/") and n not in CHART_FILES}
    missing = [n for n in ours if not ((Z2JH / n).exists() or (ROOT / n).exists())]
    assert missing == []
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        assert (Z2JH / target).exists(), target


def test_the_guide_keeps_its_promises_about_sizes():
    text = " ".join(GUIDE.read_text().split())
    single = load("values.yaml")["singleuser"]
    cpu, memory = single["cpu"], single["memory"]
    gb = lambda q: re.sub(r"^(\d+)G$", r"\1 GB", q)     # "3G" -> "3 GB"
    assert (f"guarantee {cpu['guarantee']} CPU and {gb(memory['guarantee'])}, "
            f"limit {cpu['limit']} CPU and {gb(memory['limit'])}") in text
    assert f"home volume {single['storage']['capacity'].replace('Gi', ' GiB')}" in text


# ----------------------------------------------------------------------------- ngshare, end to end
class _FakeHubUser(http.server.BaseHTTPRequestHandler):
    """The one hub endpoint ngshare calls, GET /hub/api/user: here a token is its user's name."""

    def do_GET(self):                                        # noqa: N802 (http.server's name)
        token = self.headers.get("Authorization", "")[len("token "):]
        if self.path.rstrip("/") != "/hub/api/user" or not token:
            self.send_response(403)
            self.end_headers()
            return
        body = json.dumps({"kind": "user", "name": token}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ngshare_server(tmp_path):
    """A real ngshare (stand-alone mode) on loopback, asking a stand-in hub who owns a token.
    Yields its URL as ngshare_exchange is configured with it."""
    python = os.environ.get("NGSHARE_PYTHON")
    if not python:
        pytest.skip("NGSHARE_PYTHON is not set: name a Python with ngshare 0.6.0 installed "
                    "(e.g. a venv with `pip install ngshare==0.6.0 'sqlalchemy<2'`) to run the "
                    "exchange end to end")
    if importlib.util.find_spec("ngshare_exchange") is None:
        pytest.skip("ngshare_exchange is not importable here (`pip install --no-deps "
                    "ngshare_exchange==0.5.3` and rapidfuzz)")
    hub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeHubUser)
    threading.Thread(target=hub.serve_forever, daemon=True).start()
    port = _free_port()
    prefix = "/services/ngshare/"
    env = {**os.environ, "JUPYTERHUB_API_URL": f"http://127.0.0.1:{hub.server_port}/hub/api",
           "JUPYTERHUB_API_TOKEN": "ngshare-token", "JUPYTERHUB_CLIENT_ID": "service-ngshare",
           "JUPYTERHUB_SERVICE_PREFIX": prefix,
           "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}"}
    log = open(tmp_path / "ngshare.log", "w")
    server = subprocess.Popen(
        [python, "-m", "ngshare", "--vngshare", "--admins", "admin",
         "--database", f"sqlite:///{tmp_path / 'ngshare.db'}", "--storage",
         str(tmp_path / "ngshare-files"), "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}{prefix.rstrip('/')}"
    try:
        import requests

        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url + "/courses", headers={"Authorization": "token admin"},
                                timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert server.poll() is None, (tmp_path / "ngshare.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "ngshare did not answer within 60 s"
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        hub.shutdown()


def test_the_course_runs_through_ngshare_end_to_end(tmp_path, ngshare_server):
    """Release, fetch, submit, collect, autograde and feedback through a real ngshare with
    ngshare_exchange and this folder's nbgrader_config.py, as the guide's steps 5-6 do;
    each user in a process of their own (ngshare_exchange reads the user name at import)."""
    from conftest import require_sound_sandbox

    from convbook.course import notebook_names

    require_sound_sandbox("grading through ngshare")
    import requests

    url = ngshare_server
    etc = tmp_path / "etc-jupyter"          # stands for /etc/jupyter of the images
    etc.mkdir()
    shutil.copy(Z2JH / "nbgrader_config.py", etc / "nbgrader_config.py")
    course = tmp_path / "course"

    def run(user, *argv, cwd=tmp_path):
        """Run a command as a hub user whose pod holds /etc/jupyter/nbgrader_config.py, with
        a home of their own (nbgrader keeps a student's submission cache there)."""
        cwd.mkdir(parents=True, exist_ok=True)
        if not (cwd / "nbgrader_config.py").exists():     # nbgrader also reads the cwd's
            shutil.copy(etc / "nbgrader_config.py", cwd / "nbgrader_config.py")
        home = tmp_path / "homes" / user
        home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "HOME": str(home), "JUPYTERHUB_USER": user,
               "JUPYTERHUB_API_TOKEN": user, "CONVBOOK_EXCHANGE": "ngshare",
               "CONVBOOK_NGSHARE_URL": url, "CONVBOOK_COURSE": str(course)}
        for variable in ("JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "XDG_DATA_HOME"):
            env.pop(variable, None)
        done = subprocess.run([sys.executable, *map(str, argv)], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=600)
        return done.returncode, done.stdout + done.stderr

    manage = ("-c", "import sys; from ngshare_exchange.course_management import main; "
                    "sys.argv[0] = 'ngshare-course-management'; main()")
    roster = tmp_path / "students.csv"
    roster.write_text("student_id,first_name,last_name,email\ns1,,,\n")
    code, out = run("admin", *manage, "create_course", COURSE_ID, "conv2d-grader",
                    cwd=tmp_path / "admin")
    assert code == 0 and "Successfully created" in out, out
    code, out = run("conv2d-grader", *manage, "add_students", COURSE_ID, roster, "--no-gb",
                    cwd=tmp_path / "grader")
    assert code == 0 and "s1 was successfully added" in out, out

    # step 5: the course, then the line that makes it use the exchange of nbgrader_config.py
    grader = functools.partial(run, "conv2d-grader", "-m", "convbook.cli", cwd=tmp_path / "grader")
    code, out = grader("course", "create", course)          # the whole book, from solutions/
    assert code == 0, out
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(f'\nload_subconfig("nbgrader_config.py", path={str(etc)!r})\n')
    code, out = grader("release")
    assert code == 0 and "Released conv2d" in out, out

    # a student fetches, writes chapter 0's function and submits; someone not on the
    # roster gets nothing
    student = tmp_path / "home-s1"
    code, out = run("s1", "-m", "nbgrader", "fetch_assignment", "conv2d", cwd=student)
    mine = student / "conv2d" / "convlib" / "correlate.py"
    assert code == 0 and mine.is_file(), out
    reference = (ROOT / "solutions" / "convlib" / "correlate.py").read_text()
    mine.write_text(re.sub(r"(?m)^\s*### (BEGIN|END) SOLUTION.*\n", "", reference))
    code, out = run("s1", "-m", "nbgrader", "submit", "conv2d", cwd=student)
    assert code == 0, out
    run("s2", "-m", "nbgrader", "fetch_assignment", "conv2d", cwd=tmp_path / "home-s2")
    assert not (tmp_path / "home-s2" / "conv2d").exists()
    denied = requests.get(f"{url}/submissions/{COURSE_ID}/conv2d",
                          headers={"Authorization": "token s1"}, timeout=10).json()
    assert denied["success"] is False                       # a student cannot list submissions

    code, out = grader("collect", "--exchange")
    assert code == 0 and "1 submission(s)" in out, out
    code, out = grader("autograde", "--jobs", 1, "--timeout", 600)
    scored = re.search(r"^s1\s+ok\s+(\d+) / (\d+) autograded", out, re.M)
    assert code == 0 and scored and 0 < int(scored.group(1)) < int(scored.group(2)), out

    # ngshare keeps no submission secret: feedback --release files the pages by timestamp
    code, out = grader("feedback", "--release")
    assert code == 0 and re.search(r"^s1: \d+ feedback page\(s\) released", out, re.M), out
    code, out = run("s1", "-m", "nbgrader", "fetch_feedback", "conv2d", cwd=student)
    assert code == 0, out
    pages = list((student / "conv2d" / "feedback").rglob("*.html"))
    released = notebook_names(course / "release" / "conv2d")
    assert sorted(p.stem for p in pages) == released, out
