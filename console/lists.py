"""One way to serve a console list: a django-filter FilterSet narrows the rows, a
django-tables2 Table shows them (sorting on the columns it marks orderable), 25 rows a page,
and the same view answers htmx with the table fragment alone.

An app's list has a `tables.py` Table and a `filtersets.py` ListFilterSet; its template
includes "console/list_filters.html" (the filter form) and holds `{% partialdef table %}`
around `{% render_table table %}` (our one table template, DJANGO_TABLES2_TEMPLATE)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import django_filters
import django_tables2 as tables
from django import forms
from django.core import signing
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_tables2.rows import BoundRows

PAGE_SIZE = 25


class ListFilterForm(forms.Form):
    """A list's filter form: fields keep their query names as ids (`q`, `status`), which the
    pages' labels and htmx triggers use."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "%s")
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


def search_filter(label, **kwargs) -> django_filters.CharFilter:
    """A list's free-text search, `q`, over its ListFilterSet's `search_fields`."""
    widget = forms.TextInput(attrs={"type": "search", **kwargs.pop("attrs", {})})
    return django_filters.CharFilter(label=label, method="search", widget=widget, **kwargs)


class ListFilterSet(django_filters.FilterSet):
    """A console list's filters. A value the form refuses (an unknown choice, an impossible
    date) is left out of the filtering and shown with its error, never a 500."""

    search_fields: tuple[str, ...] = ()  # what `q` looks in, any of them, case-insensitively
    search_max_length = 200

    class Meta:
        fields: list[str] = []
        form = ListFilterForm

    def search(self, queryset, name, value):
        text = value[: self.search_max_length]
        matches = Q()
        for field in self.search_fields:
            matches |= Q(**{f"{field}__icontains": text})
        return queryset.filter(matches)


def list_table(request, table_class: type[tables.Table], rows, **table_kwargs) -> tables.Table:
    """`rows` (a FilterSet's `qs`) as a table, sorted as the query asks (`sort`, on orderable
    columns only) and cut to the asked page (a page out of range shows the nearest one)."""
    table = table_class(rows, request=request, **table_kwargs)
    table.order_by = request.GET.getlist(table.prefixed_order_by_field)
    table.paginator = Paginator(table.rows, PAGE_SIZE)
    table.page = table.paginator.get_page(request.GET.get(table.prefixed_page_field))
    return table


def list_render(request, template: str, *, table, filterset=None, **context):
    """The list's page, or its `table` partial for htmx (a filter change, a sort, a page)."""
    name = f"{template}#table" if request.htmx else template
    return render(request, name, {"table": table, "filter": filterset, **context})


def list_page(request, template: str, *, table_class, filterset_class, queryset, **context):
    filterset = filterset_class(request.GET, queryset=queryset, request=request)
    table = list_table(request, table_class, filterset.qs)
    return list_render(request, template, table=table, filterset=filterset, **context)


class DayColumn(tables.Column):
    """A date or a time as its day in the current time zone ("Y-m-d"), formatted in Python:
    django-tables2's DateColumn compiles a template for every cell, a fifth of the CPU of a
    25-row page with four of them."""

    def __init__(self, format: str = "Y-m-d", **kwargs):
        self.format = format
        super().__init__(**kwargs)

    def render(self, value):
        from django.utils import dateformat, timezone

        if isinstance(value, datetime) and timezone.is_aware(value):
            value = timezone.localtime(value)
        return dateformat.format(value, self.format)


class ActionsColumn(tables.TemplateColumn):
    """A row's buttons (a template with `record`); screen readers alone read its header."""

    def __init__(self, template_name: str, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "text-end"}})
        super().__init__(
            template_name=template_name, verbose_name=_("Actions"), empty_values=(),
            orderable=False, **kwargs,
        )  # fmt: skip

    @property
    def header(self):
        return format_html('<span class="visually-hidden">{}</span>', self.verbose_name)


# Keyset pagination ---------------------------------------------------------------------------
#
# A list that may hold a million rows (Users) pages by keyset instead of OFFSET and COUNT:
# each page is read from an index at the row where the previous one ended, so the first, a
# middle and the last page cost the same. The page parameter carries where to start
# ("a.<signed key>" after a row, "b.<signed key>" before one, "last"); sorting or filtering
# drops it (query_with page=None), as with numbered pages.

_KEYSET_SALT = "console.lists.keyset"


@dataclass
class KeysetPage:
    object_list: object
    has_previous: bool
    has_next: bool
    previous_token: str = ""
    next_token: str = ""
    keyset = True


def _key_dump(value, pk) -> str:
    if isinstance(value, datetime):
        value = {"t": value.isoformat()}
    return signing.dumps([value, pk], salt=_KEYSET_SALT, compress=True)


def _key_load(token: str):
    value, pk = signing.loads(token, salt=_KEYSET_SALT)
    if isinstance(value, dict):
        value = datetime.fromisoformat(value["t"])
    return value, int(pk)


def _window_read(rows, *, position: Q | None, ordering: tuple, expression, window: int):
    """The first rows of `rows` (already ordered and cut) among the first `window` rows of
    the whole table in that order: the rows are read from the order's index, `window` of
    them at most, and only then filtered. None when fewer than the page asks for match.

    Why: PostgreSQL cannot estimate how many rows some filters keep (a JSON attribute's
    containment is always guessed at 0.1 %), so for a frequent value it reads every match
    through the filter's index and sorts them (125,000 rows for city=Paris among a million
    users: seconds) where walking the order's index would meet a page of matches within a
    few hundred rows. The walk, cut at `window` rows, is one short read; a rare value finds
    too few rows in it and the caller asks PostgreSQL the usual way."""
    from django.db import connections

    model = rows.model
    table = connections[rows.db].ops.quote_name(model._meta.db_table)
    inner = model._base_manager.using(rows.db).alias(keyset_value=expression)
    if position is not None:
        inner = inner.filter(position)
    inner_sql, inner_params = inner.order_by(*ordering)[:window].query.sql_with_params()
    sql, params = rows.select_related(None).query.sql_with_params()
    marker = f" FROM {table} "
    at = sql.find(marker)
    if at < 0 or f" FROM {table} " in sql[at + 1 :]:
        return None  # not the plain query this expects (the table read twice): no shortcut
    before = sql[:at].replace("%%", "").count("%s")
    sql = f"{sql[:at]} FROM ({inner_sql}) AS {table} {sql[at + len(marker) :]}"
    params = (*params[:before], *inner_params, *params[before:])
    found = list(model._base_manager.using(rows.db).raw(sql, params))
    return found if len(found) == rows.query.high_mark else None


def keyset_table(
    request,
    table_class: type[tables.Table],
    rows,
    *,
    orders: dict,
    default: str,
    window: int = 0,
    **kwargs,
) -> tables.Table:
    """`rows` (a FilterSet's `qs`) as a table paged by keyset. `orders` maps the names of the
    table's orderable columns (each declared with order_by="keyset_key") to the field or
    expression rows are sorted by, each backed by an index on (expression, id); `default` is
    the sort without one ("-name" for descending). `window`: when rows are filtered, look
    for the page among that many rows of the order's index first (_window_read)."""
    asked = request.GET.get("sort") or ""
    if asked.lstrip("-") not in orders:
        asked = ""  # an unknown or unsortable column: the default order, marked on no column
    sort = asked or default
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    expression = orders[name]
    expression = F(expression) if isinstance(expression, str) else expression
    rows = rows.alias(keyset_value=expression)

    position = request.GET.get("page") or ""
    backward = position == "last" or position.startswith("b.")
    cursor = None
    if position[:2] in ("a.", "b."):
        try:
            cursor = _key_load(position[2:])
        except (signing.BadSignature, ValueError, TypeError, KeyError):
            backward, cursor = False, None
    # Reading backward walks the index the other way, then turns the page round.
    reverse = descending != backward
    direction = "lt" if reverse else "gt"
    position = None
    if cursor is not None:
        value, pk = cursor
        position = Q(**{f"keyset_value__{direction}e": value}) & (
            Q(**{f"keyset_value__{direction}": value})
            | Q(keyset_value=value, **{f"pk__{direction}": pk})
        )
        rows = rows.filter(position)
    ordering = ("-keyset_value", "-pk") if reverse else ("keyset_value", "pk")
    page = rows.annotate(keyset_key=expression).order_by(*ordering)[: PAGE_SIZE + 1]
    found = None
    if window and page.query.where:
        found = _window_read(
            page, position=position, ordering=ordering, expression=expression, window=window
        )
        if found is not None:
            from django.db.models import prefetch_related_objects

            related = page.query.select_related
            if isinstance(related, dict):
                prefetch_related_objects(found, *_related_paths(related))
    if found is None:
        found = list(page)
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    if backward:
        found.reverse()
    table = table_class(found, request=request, **kwargs)
    if asked:
        # The rows are in order already; the table sorts them again by the same value (its
        # orderable columns sort by `keyset_key`), which only marks the sorted column.
        table.order_by = asked
    if backward:  # a page before a row has rows after it; the last page has none
        has_previous, has_next = more, cursor is not None
    else:
        has_previous, has_next = cursor is not None, more
    table.page = KeysetPage(
        object_list=BoundRows(data=found, table=table),
        has_previous=has_previous,
        has_next=has_next,
        previous_token=("b." + _key_dump(found[0].keyset_key, found[0].pk)) if found else "",
        next_token=("a." + _key_dump(found[-1].keyset_key, found[-1].pk)) if found else "",
    )
    return table


def _related_paths(tree: dict, prefix: str = "") -> list[str]:
    """select_related's tree ({"a": {"b": {}}}) as prefetch paths (["a__b"])."""
    paths = []
    for name, below in tree.items():
        path = f"{prefix}{name}"
        deeper = _related_paths(below, f"{path}__") if below else []
        paths += deeper or [path]
    return paths
