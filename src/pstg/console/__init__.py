"""The web console: the operator's pages, served by PSTG itself on the API's port.

    install_console(app)   adds the pages (/, /alarms, /trends, /events, /devices, /audit,
                           /users, /login) and their static files (/static/...) to the API's
                           FastAPI app; the service calls it after `create_app`

The pages are rendered here (Jinja2) for the session's user and role; everything on them is
then read from, and done through, the same JSON API integrators use, with the session cookie
and its CSRF token (pstg.api.security). Scripts and styles are files of this package (plain
JavaScript modules, no build step); the charts are uPlot from the `uplot-python` package.
docs/console.md describes the pages and the role rules.
"""

from pstg.console.pages import install_console

__all__ = ["install_console"]
