# nbgrader settings for "Conv2D from Scratch" on Zero to JupyterHub (Kubernetes).
#
# Both images copy this file to /etc/jupyter/nbgrader_config.py:
#  * student pods read it there (nbgrader looks in /etc/jupyter), so the Assignment List
#    knows the course and the exchange without any file in the student's home;
#  * the grading pod's course directory pulls it in with one line appended to the course's
#    own nbgrader_config.py (`load_subconfig("nbgrader_config.py", path="/etc/jupyter")`,
#    see README.md), because the instructor CLI reads only the course's file.
#
# The pod's environment picks the variant (values.yaml and grader.yaml set it):
#   CONVBOOK_EXCHANGE=ngshare  the ngshare service (default): files go over HTTP to ngshare,
#                              which checks every request against the hub's users.
#   CONVBOOK_EXCHANGE=shared   nbgrader's own file-system exchange on a ReadWriteMany volume
#                              mounted at CONVBOOK_EXCHANGE_ROOT in every pod.
import os

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

# The course id `python -m convbook.cli course create` uses (convbook.layout.COURSE_ID); set
# again here so that a student pod, which has no course directory, names the same course.
COURSE_ID = os.environ.get("CONVBOOK_COURSE_ID", "conv2d-from-scratch")
EXCHANGES = ("ngshare", "shared")
# The ngshare chart's Service is called `ngshare` (release name "ngshare") and listens on
# 8080; ngshare serves its API under /services/ngshare. Same namespace as the hub assumed.
DEFAULT_NGSHARE_URL = "http://ngshare:8080/services/ngshare"
DEFAULT_EXCHANGE_ROOT = "/srv/nbgrader/exchange"

exchange = os.environ.get("CONVBOOK_EXCHANGE", "ngshare")
if exchange not in EXCHANGES:
    raise ValueError(f"CONVBOOK_EXCHANGE={exchange!r} is not a known exchange; "
                     f"use one of {', '.join(EXCHANGES)}")

c.CourseDirectory.course_id = COURSE_ID

if exchange == "ngshare":
    # The ngshare_exchange package (installed in both images) replaces each nbgrader exchange
    # step (fetch, submit, release, collect, feedback) with one that talks to ngshare.
    from ngshare_exchange import configureExchange

    configureExchange(c, os.environ.get("CONVBOOK_NGSHARE_URL", DEFAULT_NGSHARE_URL))
else:
    # Every user pod runs as the same uid (1000) on Zero to JupyterHub, so the file modes
    # nbgrader's exchange relies on do not keep students out of each other's submissions:
    # see README.md before choosing this variant.
    c.Exchange.root = os.environ.get("CONVBOOK_EXCHANGE_ROOT", DEFAULT_EXCHANGE_ROOT)
