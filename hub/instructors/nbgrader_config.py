# nbgrader settings of the instructors on the course's JupyterHub: formgrader (and nbgrader
# in a terminal) work on the shared course directory, with the course's own configuration
# (the gradebook's URL, convbook's autograde settings), which only the instructors' group can
# read. Installed by hub/setup_hub.py into PREFIX/etc/jupyter/instructors/.
import json
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets)

_SETTINGS = json.loads((Path(__file__).resolve().parents[2] / "conv2d_hub.json").read_text())
_COURSE_CONFIG = Path(_SETTINGS["course"]) / "nbgrader_config.py"

c.CourseDirectory.root = _SETTINGS["course"]
c.CourseDirectory.course_id = _SETTINGS["course_id"]
c.Exchange.root = _SETTINGS["exchange"]
if _COURSE_CONFIG.is_file():                  # absent until the course is created
    load_subconfig(str(_COURSE_CONFIG))  # noqa: F821 (provided by traitlets)

# formgrader refuses a course outside the server's root folder (the home): the hub links it
# there as ~/conv2d-course. Set after the course's own file, which names the real path.
_LINK = Path.home() / "conv2d-course"
if _LINK.is_symlink() and _LINK.resolve() == Path(_SETTINGS["course"]).resolve():
    c.CourseDirectory.root = str(_LINK)
