"""Console > Users > Import: a CSV checked row by row (a report of exactly the bad rows), the
good rows created in the background with their welcome emails, the progress shown live: the
same machinery as the bulk invite (console.bulk)."""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from accounts import imports
from accounts.models import SignUpAttribute, UserFlow
from tests.helpers import emails_to, eventually


def upload(client, lines, name="people.csv"):
    data = SimpleUploadedFile(name, "\n".join(lines).encode(), content_type="text/csv")
    return client.post("/console/users/import/", {"file": data})


def report_of(page: str) -> dict[int, str]:
    rows = re.findall(r"<tr><td>(\d+)</td><td>[^<]*</td><td>([^<]+)</td></tr>", page)
    return {int(row): reason for row, reason in rows}


def test_the_report_lists_exactly_the_bad_rows_and_the_good_ones_are_created(acme):
    with tenant_context(acme.tenant):
        SignUpAttribute.objects.create(
            flow=UserFlow.objects.first(), key="tier", label="Tier", data_type="integer",
            position=8,
        )  # fmt: skip
    domain = f"import-{uuid.uuid4().hex[:6]}.example"
    lines = [
        "Email,Given name,Surname,Display name,Tier,Unrelated",
        f"a@{domain},Ada,Lovelace,Ada L.,3,ignored",  # 2
        "not-an-email,X,Y,Z,1,",  # 3
        f"A@{domain},Ada,Again,,,",  # 4: the same address, differently cased
        f"{acme.member.email},Mem,Ber,,,",  # 5
        f"b@{domain},Bob,,,many,",  # 6: tier is a number
        "",  # 7: blank lines are skipped
        f"c@{domain},Cy,,,,",  # 8
    ]
    client = acme.client(acme.admin)
    response = upload(client, lines)
    assert response.status_code == 302
    url = response["Location"]
    page = client.get(url).content.decode()
    assert report_of(page) == {
        3: "bad email", 4: "duplicate", 5: "a user with this address exists",
        6: "an attribute value the user flow does not accept",
    }  # fmt: skip
    assert "6 rows: 2 valid, 4 rejected. 0 processed." in page
    assert 'hx-trigger="every 1s"' in page  # the page polls while the worker runs

    # The worker (here in-process; the task calls the same function) creates them.
    with tenant_context(acme.tenant):
        from accounts.models import UserImport

        job = UserImport.objects.get(public_id=url.rstrip("/").rsplit("/", 1)[1])
        assert imports.user_import_process_chunk(import_id=job.pk) is False
        created = {user.email: user for user in get_user_model().objects.filter(
            email__endswith=f"@{domain}")}  # fmt: skip
    assert set(created) == {f"a@{domain}", f"c@{domain}"}
    ada = created[f"a@{domain}"]
    assert (ada.first_name, ada.last_name, ada.display_name) == ("Ada", "Lovelace", "Ada L.")
    assert ada.attributes["tier"] == 3 and "Unrelated" not in ada.attributes
    assert not ada.has_usable_password()
    assert "/accounts/password/reset/key/" in emails_to(acme, ada.email)[0]
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "100%" in fragment and "Done." in fragment and "hx-trigger" not in fragment


def test_a_file_without_rows_or_not_utf8_is_refused_next_to_the_field(acme):
    client = acme.client(acme.admin)
    empty = upload(client, ["email,given name"])
    assert empty.status_code == 400 and "The file has no rows." in empty.content.decode()
    latin = SimpleUploadedFile("x.csv", "é@x.example".encode("latin-1"), content_type="text/csv")
    refused = client.post("/console/users/import/", {"file": latin})
    assert refused.status_code == 400 and "UTF-8" in refused.content.decode()


@pytest.mark.parametrize("role", ["guest_inviter", "reports_reader"])
def test_only_user_administrators_import(acme, role):
    admin = get_user_model()
    with tenant_context(acme.tenant):
        outsider = admin.objects.create_user(
            email=f"{role}-{uuid.uuid4().hex[:6]}@acme.test", admin_roles=[role]
        )
    response = upload(acme.client(outsider), [f"x@{uuid.uuid4().hex[:6]}.example"])
    assert response.status_code == 403


@pytest.mark.server
@pytest.mark.slow
def test_a_worker_creates_every_row_once_and_each_person_gets_one_email(
    acme_committed, celery_worker_process, mailbox
):
    domain = f"import-worker-{uuid.uuid4().hex[:6]}.example"
    lines = ["email,given name"] + [f"p{number}@{domain},P{number}" for number in range(450)]
    client = acme_committed.client(user=acme_committed.admin)
    started = time.monotonic()
    response = upload(client, lines)
    assert response.status_code == 302

    def finished():
        fragment = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
        return "Done." in fragment and fragment

    fragment = eventually(finished, timeout=90, interval=0.5)
    assert "450 rows: 450 valid, 0 rejected. 450 processed." in fragment
    eventually(lambda: len(mailbox.to(f"@{domain}")) >= 450, timeout=90, interval=0.5)
    delivered = Counter(message["X-Envelope-To"] for message in mailbox.to(f"@{domain}"))
    assert len(delivered) == 450 and set(delivered.values()) == {1}
    with tenant_context(acme_committed.tenant):
        imported = get_user_model().objects.filter(email__endswith=f"@{domain}")
        assert imported.count() == 450
        imported.delete()  # committed rows: the shared tenant keeps no trace of this test
    assert time.monotonic() - started < 180  # a shared 2-core machine; typically far less
