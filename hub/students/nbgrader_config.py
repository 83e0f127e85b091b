# nbgrader settings of every student on the course's JupyterHub (the Assignment List and
# `nbgrader fetch_assignment / submit / fetch_feedback` in a terminal). Installed by
# hub/setup_hub.py into PREFIX/etc/jupyter/students/, beside the project's course-mode
# JupyterLab settings (jupyter/course/); the paths come from PREFIX/etc/conv2d_hub.json.
import json
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets)

_SETTINGS = json.loads((Path(__file__).resolve().parents[2] / "conv2d_hub.json").read_text())

c.CourseDirectory.course_id = _SETTINGS["course_id"]
c.Exchange.root = _SETTINGS["exchange"]
