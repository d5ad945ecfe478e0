"""The IoTorino web application: open data (/dati), schools (/scuole) and city (/citta) in one app.

`create_app(WebSettings(...))` builds it; `iotorino web` serves it with uvicorn.
Pages are server-rendered Jinja templates that work before any JavaScript
runs; every page `/x` has a JSON twin `/x.json`; routes are registered in one
place (`iotorino.web.routes`); text lives in message catalogues
(`iotorino/web/messages/<lang>/<section>.yaml`), Italian first, English at
`/en/...` or `?lang=en`. Browser libraries are served by the app itself.
"""

from iotorino.web.app import create_app
from iotorino.web.settings import WebSettings

__all__ = ["create_app", "WebSettings"]
