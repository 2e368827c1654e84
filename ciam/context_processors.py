from django.conf import settings


def platform(request):
    return {
        "tenant": getattr(request, "tenant", None),
        "base_domain": settings.BASE_DOMAIN,
        "platform_name": "Ciam",
    }
