import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ciam.settings")
django.setup(set_prefix=False)

from ciam.handlers import Application  # noqa: E402 (needs the settings above)
from ciam.warm_up import warm_up  # noqa: E402

application = Application()
warm_up()  # before the first request, not during it (ciam/warm_up.py)
# What start-up made lives as long as the process: out of the garbage collector's sight, so
# that a full collection stops walking it (ciam/warm_up.py).
gc.freeze()
