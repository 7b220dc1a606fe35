"""The browser UI: page shells rendered on the server, data fetched by the browser.

Pages are HTML shells (`templates/`) that load native ES modules
(`static/js/`); every piece of workspace data comes from /api/v1 and /ws,
with the same bearer credentials the CLI uses, so the UI can do nothing the
API would not let the signed-in person do. `install_web` adds the pages and
the static files to the API's app, so `swarmyard serve` and `swarmyard api`
serve the same UI.
"""

from ._install import install_web
from ._pages import NAV, NavItem

__all__ = ["NAV", "NavItem", "install_web"]
