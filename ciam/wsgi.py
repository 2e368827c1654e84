import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ciam.settings")
django.setup(set_prefix=False)

from ciam.handlers import Application  # noqa: E402 (needs the settings above)

application = Application()
