from django import template

from console.navigation import areas_for

register = template.Library()


@register.simple_tag(takes_context=True)
def console_areas(context):
    request = context["request"]
    return areas_for(request.user, request.path)


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters changed (pagination keeps filters)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"
