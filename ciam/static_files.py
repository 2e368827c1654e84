"""The static files storage of every page (settings.STORAGES["staticfiles"])."""

from __future__ import annotations

from django.contrib.staticfiles.storage import StaticFilesStorage as DjangoStaticFilesStorage


class StaticFilesStorage(DjangoStaticFilesStorage):
    """Django's, with each file's URL worked out once per process: every hosted page links
    three or four static files (`{% static %}`), and quoting and joining their URLs again on
    each page cost a tenth of a sign-in page's rendering. A file's URL depends only on its
    name and the settings (no hashed names here), and the names are the templates' own."""

    def url(self, name):
        urls = self.__dict__.setdefault("_ciam_urls", {})
        url = urls.get(name)
        if url is None:
            url = urls[name] = super().url(name)
        return url
