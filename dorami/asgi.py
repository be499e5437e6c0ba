"""HTTP + websocket entry point. Websockets pass origin validation and session auth."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dorami.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from dorami.routing import SessionAuthStack, websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            SessionAuthStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# What is loaded by now (Django, the apps, the URLconf, the middleware) lives as long as the
# process: move it out of the garbage collector's reach, so its full passes, which run more
# often as thousands of sockets join, stop scanning it again each time.
gc.freeze()
