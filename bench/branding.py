"""Branding benchmark: server CPU of the sign-in page and of a whole password sign-in on a
branded tenant against an unbranded one, same server, rounds interleaved.

    .venv/bin/python bench/branding.py              # 5 s per measurement, 3 rounds
    .venv/bin/python bench/branding.py --seconds 2  # a quicker look

The branded tenant has published colours, sign-in text, footer links, a banner logo, a
square logo, a favicon and custom CSS: everything a hosted page shows of a branding. Goal
(issue "Company branding and languages"): at most 5 % more server CPU on the branded tenant,
for the page and for the sign-in. One gunicorn worker on core 0, the load generator on core 1
(bench/harness.py); the floor comes from the same run.
"""

from __future__ import annotations

import argparse
import io

import harness
from login import PASSWORD, SignIn  # bench/login.py: one whole sign-in per call

USERS = 1000
CSS = """
.hosted-card { border-radius: 12px; box-shadow: 0 4px 16px rgba(0, 0, 0, .12); }
.hosted-card .btn-primary { text-transform: uppercase; letter-spacing: .05em; }
@media (max-width: 600px) { .hosted-card { border-radius: 0; } }
"""


def _png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def seed() -> dict[str, list[str]]:
    """Two tenants with the same people; one of them branded and published."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django_tenants.utils import tenant_context

    from branding import services as branding
    from tenants.services import tenant_create

    User = get_user_model()
    encoded = make_password(PASSWORD)
    people = {}
    for slug in ("plain", "branded"):
        tenant = tenant_create(
            name=f"{slug.capitalize()} Bench", slug=slug, admin_email=f"admin@{slug}.example",
            admin_password=PASSWORD,
        )  # fmt: skip
        emails = [f"user{number:04}@{slug}.example" for number in range(USERS)]
        with tenant_context(tenant):
            User.objects.bulk_create(User(email=email, password=encoded) for email in emails)
            people[slug] = emails
            if slug == "branded":
                admin = User.objects.get(email=f"admin@{slug}.example")
                branding.branding_draft_update(
                    actor=admin, background_color="#f4efe6", header_color="#ffffff",
                    primary_color="#1d3557", accent_color="#9b2226", text_color="#1b1b1b",
                    sign_in_text="Welcome back to Branded. Use your work address.",
                    username_hint="name@branded.example",
                    privacy_url="https://branded.example/privacy", privacy_label="Privacy",
                    terms_url="https://branded.example/terms", terms_label="Terms",
                    help_url="https://branded.example/help", help_label="Help",
                    custom_css=CSS,
                )  # fmt: skip
                branding.branding_logo_upload(actor=admin, data=_png((240, 80), (29, 53, 87)))
                for slot, size in (("square", (240, 240)), ("favicon", (64, 64))):
                    branding.branding_image_upload(
                        actor=admin, slot=slot, data=_png(size, (155, 34, 38))
                    )
                branding.branding_publish(actor=admin)
    return people


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    harness.add_load_options(
        parser, who="people signing in", rounds_help="rounds, tenants interleaved in each"
    )
    options = parser.parse_args()
    with harness.bench_database("branding") as url:
        harness.django_setup(url)
        people = seed()
        with harness.server(url) as server:
            harness.pin_to_core(harness.LOAD_CORE)
            floor = harness.measure_floor(server, host="plain.localhost")
            results: dict[tuple[str, str], list[harness.Result]] = {}
            for number in range(1, options.rounds + 1):
                for slug in ("plain", "branded"):
                    host = f"{slug}.localhost"

                    def page(host=host):
                        answer = harness.Client(server.base_url, host=host).get("/accounts/login/")
                        if answer.status != 200:
                            raise RuntimeError(f"sign-in page answered {answer.status}")
                        return answer

                    for what, call in (
                        ("GET sign-in page", page),
                        ("password sign-in", SignIn(server, people[slug], host=host)),
                    ):
                        results.setdefault((what, slug), []).append(
                            harness.measure(
                                f"{what}, {slug} (round {number})",
                                call,
                                seconds=options.seconds,
                                server=server,
                                concurrency=options.concurrency,
                            )  # fmt: skip
                        )
            harness.print_table(
                "Branded against unbranded tenant (one server process)",
                [result for runs in results.values() for result in runs],
                floor=floor,
            )
            for what in ("GET sign-in page", "password sign-in"):
                plain, branded = (
                    sorted(run.server_cpu_ms for run in results[(what, slug)])
                    for slug in ("plain", "branded")
                )
                middle = len(plain) // 2
                extra = (branded[middle] / plain[middle] - 1) * 100
                print(
                    f"- {what}: server CPU {plain[middle]:.2f} ms unbranded, "
                    f"{branded[middle]:.2f} ms branded (median rounds): {extra:+.1f} % "
                    f"({'meets' if extra <= 5 else 'misses'} the goal of at most +5 %)"
                )


if __name__ == "__main__":
    main()
