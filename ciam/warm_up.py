"""Work each server process would otherwise do on its first requests, done when it starts.

Django imports a URLconf (and with it every view module) and builds its lookup tables on the
first request that resolves or reverses an address; the template engine imports every tag
library and compiles a template on the first page that needs them; ua-parser loads its rules
on the first User-Agent it reads (My account's "Where you're signed in"). Measured on one
gunicorn worker, the first sign-in page, sign-in and My account of a process cost 0.29 s,
0.14 s and 1.0 s of CPU against 3, 23 and 6 ms afterwards: whoever came first waited for it.
Run by ciam/wsgi.py when a worker loads the application, before it takes a request (commands
and the test client's requests do not pay it). ciam/wsgi.py then freezes what start-up made
(gc.freeze): the garbage collector's full collections, each 85 ms over the 150,000 objects of a
started process and paid by whichever request triggered one (about one a sign-in in 60), no
longer walk them.
"""

from __future__ import annotations

from django.conf import settings
from django.template import engines
from django.template.loader_tags import ExtendsNode, IncludeNode
from django.urls import get_resolver

# The pages of a sign-in: compiled with the layouts they extend and the parts they include.
HOSTED_TEMPLATES = ("account/login.html", "accounts/my_account.html")


def warm_up() -> None:
    for urlconf in (settings.ROOT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF):
        get_resolver(urlconf).reverse_dict  # noqa: B018 (imports the views, fills the tables)

    engine = engines["django"].engine  # imports every tag library
    for name in HOSTED_TEMPLATES:
        _compile(engine, name, seen=set())

    from accounts.devices import device_summary

    device_summary("")


def _compile(engine, name: str, *, seen: set) -> None:
    """`name` compiled into the cached loader, and the templates it names literally."""
    if name in seen:
        return
    seen.add(name)
    template = engine.get_template(name)
    for node in template.nodelist.get_nodes_by_type((ExtendsNode, IncludeNode)):
        expression = node.parent_name if isinstance(node, ExtendsNode) else node.template
        if isinstance(expression.var, str):  # a quoted name, not a variable
            _compile(engine, expression.var, seen=seen)
