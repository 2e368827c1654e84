"""Writes of federation: identity provider configuration (audited, secrets sealed), the
connection test, and linking and unlinking upstream identities."""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import urlsplit

import requests
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from audit.services import audit_record
from federation.http import UnsafeDestination, destination_problem, idp_session
from federation.models import DISCOVERY_PATH, LINKEDIN_ISSUER, IdentityProvider
from mfa.crypto import secret_open, secret_seal

Kind = IdentityProvider.Kind
logger = logging.getLogger(__name__)

# What each kind asks for by default: enough for a sign-in with name and email.
DEFAULT_SCOPES = {
    Kind.OPENID_CONNECT: "openid profile email",
    Kind.GOOGLE: "openid profile email",
    Kind.MICROSOFT: "openid profile email User.Read",
    Kind.GITHUB: "read:user user:email",
    Kind.APPLE: "name email",
    Kind.FACEBOOK: "email public_profile",
    Kind.LINKEDIN: "openid profile email",
    Kind.SAML: "",
}
# Fields an admin may change after creation (slug and kind never change: they are allauth's
# provider id, stored on every linked account, and the callback URL registered upstream).
EDITABLE_FIELDS = (
    "name", "client_id", "discovery_url", "entra_tenant", "scopes", "claim_email",
    "claim_given_name", "claim_family_name", "trust_verified_email", "email_domains", "enabled",
    "saml_metadata_url", "saml_entity_id", "trust_idp_mfa", "show_on_sign_in",
    "apple_team_id", "apple_key_id", "saml_mfa_contexts",
)  # fmt: skip


def _snapshot(provider: IdentityProvider) -> dict:
    """What the audit log keeps of an IdP: everything but the secret."""
    values = {"kind": provider.kind, "slug": provider.slug}
    values.update({field: getattr(provider, field) for field in EDITABLE_FIELDS})
    return values


def discovery_url_problem(url: str) -> str | None:
    """Why `url` cannot be an IdP's discovery URL, or None: https on a public address
    (federation.http.destination_problem), unless loopback IdPs are allowed."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _("This is not a valid URL.")
    if parts.username or parts.password or not parts.hostname:
        return _("Enter the URL of the provider's discovery document (or its issuer).")
    return destination_problem(url)


def discovery_url_normalize(url: str) -> str:
    """An issuer URL becomes its discovery document's URL (OpenID Connect Discovery 4)."""
    url = url.strip()
    if "/.well-known/" in url:
        return url
    return url.rstrip("/") + DISCOVERY_PATH


def _saml_clean(provider: IdentityProvider, metadata_xml: str, errors: dict) -> None:
    """Read the IdP from the uploaded metadata, or from its metadata URL (fetched again
    when the URL changed or nothing was read yet)."""
    from federation import saml

    provider.discovery_url = provider.entra_tenant = provider.scopes = ""
    provider.saml_metadata_url = provider.saml_metadata_url.strip()
    provider.saml_entity_id = provider.saml_entity_id.strip()
    for field, default in saml.DEFAULT_ATTRIBUTES.items():
        setattr(provider, field, getattr(provider, field).strip() or default)
    url = provider.saml_metadata_url
    if not metadata_xml and url:
        problem = discovery_url_problem(url)
        if problem:
            errors["saml_metadata_url"] = [problem]
            return
        try:
            metadata_xml = saml.metadata_fetch(url)
        except ValidationError as error:
            errors["saml_metadata_url"] = error.messages
            return
    if not metadata_xml:
        if not provider.saml_metadata_xml:
            errors["saml_metadata_url"] = [
                _("Enter the URL of the IdP's metadata, or upload its metadata file.")
            ]
        return
    try:
        idp = saml.metadata_parse(metadata_xml, provider.saml_entity_id)
    except ValidationError as error:
        errors["saml_metadata_file" if not url else "saml_metadata_url"] = error.messages
        return
    provider.saml_metadata_xml = metadata_xml
    provider.saml_entity_id = idp["entity_id"]
    provider.saml_sso_url = idp["sso_url"]
    provider.saml_certificates = idp["certificates"]
    problem = _saml_sso_url_problem(idp["sso_url"])
    if problem:
        errors["saml_metadata_url" if url else "saml_metadata_file"] = [problem]


def _saml_sso_url_problem(url: str) -> str | None:
    # The browser goes there (not this server): https, an intranet address is fine.
    if urlsplit(url).scheme != "https" and not settings.FEDERATION_ALLOW_LOOPBACK_IDPS:
        return _("The IdP's single sign-on URL (%(url)s) must use https.") % {"url": url}
    return None


APPLE_ID = re.compile(r"^[A-Z0-9]{10}$")


def apple_private_key_problem(pem: str) -> str | None:
    """Why `pem` cannot sign Sign in with Apple's client secrets (an EC P-256 private key,
    the .p8 file Apple gives once), or None."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.strip().encode(), password=None)
    except (ValueError, TypeError):
        return _(
            "This is not a private key: paste the whole .p8 file Apple gave you, from "
            "-----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----."
        )
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        return _("Sign in with Apple keys are EC P-256 keys (ES256); this one is not.")
    return None


def _apple_clean(provider: IdentityProvider, errors: dict) -> None:
    provider.apple_team_id = provider.apple_team_id.strip().upper()
    provider.apple_key_id = provider.apple_key_id.strip().upper()
    for field, label in (("apple_team_id", _("team ID")), ("apple_key_id", _("key ID"))):
        if not APPLE_ID.match(getattr(provider, field)):
            errors[field] = [
                _("Enter the %(what)s Apple shows: 10 letters and digits.") % {"what": label}
            ]


def _clean(provider: IdentityProvider, metadata_xml: str = "") -> None:
    errors: dict[str, list[str]] = {}
    if not provider.name.strip():
        errors["name"] = [_("Give the provider a name; its button shows it.")]
    provider.saml_mfa_contexts = list(
        dict.fromkeys(value.strip() for value in provider.saml_mfa_contexts or [] if value.strip())
    )
    if provider.kind == Kind.SAML:
        if provider.trust_idp_mfa and not provider.saml_mfa_contexts:
            errors["saml_mfa_contexts"] = [
                _("List the authentication contexts of this IdP that mean MFA.")
            ]
        _saml_clean(provider, metadata_xml, errors)
        problem = _email_domains_clean(provider)
        if problem:
            errors["email_domains"] = [problem]
        if errors:
            raise ValidationError(errors)
        return
    if not provider.client_id.strip():
        errors["client_id"] = [_("Enter the client id the provider gave you.")]
    if provider.kind == Kind.OPENID_CONNECT:
        provider.discovery_url = discovery_url_normalize(provider.discovery_url)
        problem = discovery_url_problem(provider.discovery_url)
        if problem:
            errors["discovery_url"] = [problem]
    elif provider.kind == Kind.LINKEDIN:
        provider.discovery_url = LINKEDIN_ISSUER + DISCOVERY_PATH
    else:
        provider.discovery_url = ""
    if provider.kind == Kind.APPLE:
        _apple_clean(provider, errors)
    else:
        provider.apple_team_id = provider.apple_key_id = ""
    if provider.kind != Kind.MICROSOFT:
        provider.entra_tenant = ""
    elif provider.entra_tenant and not all(c.isalnum() or c in "-." for c in provider.entra_tenant):
        errors["entra_tenant"] = [
            _("Enter an Entra tenant id (a GUID), a domain, or leave it empty for any account.")
        ]
    if not provider.scopes.strip():
        provider.scopes = DEFAULT_SCOPES[Kind(provider.kind)]
    provider.scopes = " ".join(dict.fromkeys(provider.scopes.split()))
    if (
        provider.kind in (Kind.OPENID_CONNECT, Kind.GOOGLE, Kind.LINKEDIN)
        and "openid" not in provider.scopes.split()
    ):
        errors["scopes"] = [_("OpenID Connect sign-ins need the openid scope.")]
    problem = _email_domains_clean(provider)
    if problem:
        errors["email_domains"] = [problem]
    if errors:
        raise ValidationError(errors)


LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
DOMAIN = re.compile(rf"^(?=.{{4,253}}$)({LABEL}\.)+{LABEL}$")


def _email_domains_clean(provider: IdentityProvider) -> str | None:
    """Lower-case, drop repeats; each a domain name that no other IdP of the tenant maps."""
    domains = []
    for domain in provider.email_domains or []:
        domain = domain.strip().lower().lstrip("@").rstrip(".")
        if domain and domain not in domains:
            domains.append(domain)
    provider.email_domains = domains
    for domain in domains:
        try:
            ascii_domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_domain = ""
        if not DOMAIN.match(ascii_domain):
            return _("%(domain)s is not a domain name (like partner.example).") % {"domain": domain}
    others = IdentityProvider.objects.exclude(pk=provider.pk).filter(email_domains__overlap=domains)
    for other in others:
        taken = sorted(set(domains) & set(other.email_domains))
        return _(
            "%(domain)s already signs in with %(provider)s; a domain goes to one provider."
        ) % {"domain": taken[0], "provider": other.name}
    return None


def administrators_at_domains(domains, provider: IdentityProvider | None = None) -> list[str]:
    """The addresses of the tenant's administrators (any admin role, active) at `domains`
    that `provider` does not map yet: mapping them sends those administrators to the IdP
    when they type their address (home-realm discovery), away from their password."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    already = set(provider.email_domains) if provider is not None and provider.pk else set()
    new = [d.strip().lower().lstrip("@").rstrip(".") for d in domains or []]
    new = [d for d in dict.fromkeys(new) if d and d not in already]
    if not new:
        return []
    at_domains = Q()
    for domain in new:
        at_domains |= Q(email__iendswith=f"@{domain}")
    return sorted(
        get_user_model()
        .objects.filter(at_domains, is_active=True, admin_roles__len__gt=0)
        .values_list("email", flat=True)[:5]
    )


def admin_domains_warning(addresses: list[str]) -> str:
    return _(
        "Administrators of this tenant have addresses at these domains (%(addresses)s): "
        "once mapped, typing their address sends them to this provider and they can no "
        "longer sign in here with their password. Make sure they can sign in at the "
        "provider, then tick the box below to confirm."
    ) % {"addresses": ", ".join(addresses)}


def _client_secret_check(kind: str, client_secret: str) -> None:
    if kind == Kind.APPLE:
        problem = apple_private_key_problem(client_secret)
        if problem:
            raise ValidationError({"client_secret": [problem]})


def _slug_for(kind: str, name: str) -> str:
    if kind not in (Kind.OPENID_CONNECT, Kind.SAML):
        return kind
    base = slugify(name)[:40] or "oidc"
    slug, number = base, 2
    # A built-in provider's id (its kind) stays free for it: "LinkedIn" as a generic OpenID
    # Connect provider's name gets "linkedin-2".
    while slug in Kind.values or IdentityProvider.objects.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    return slug


@transaction.atomic
def identity_provider_create(
    *,
    actor,
    kind: str,
    client_secret: str = "",
    request=None,
    saml_metadata_file: str = "",
    **fields,
) -> IdentityProvider:
    """Add an IdP. SAML: `saml_metadata_file` is uploaded metadata (else the metadata URL is
    fetched); a signing key pair is made for it, its private key sealed."""
    if kind == Kind.SAML:
        from federation.saml import DEFAULT_ATTRIBUTES

        for field, default in DEFAULT_ATTRIBUTES.items():
            fields.setdefault(field, default)
    provider = IdentityProvider(kind=kind, **fields)
    _clean(provider, saml_metadata_file)
    if not client_secret and kind != Kind.SAML:
        raise ValidationError({"client_secret": [_("Enter the client secret.")]})
    _client_secret_check(kind, client_secret)
    if (
        kind not in (Kind.OPENID_CONNECT, Kind.SAML)
        and IdentityProvider.objects.filter(kind=kind).exists()
    ):
        raise ValidationError(
            _("%(kind)s is already set up; edit it instead.")
            % {"kind": provider.get_kind_display()}
        )
    provider.slug = _slug_for(kind, provider.name)
    if kind == Kind.SAML:
        from federation.saml import sp_key_pair

        provider.client_id = provider.slug  # allauth's "organization slug" of the SAML URLs
        private_key, provider.sp_certificate = sp_key_pair(f"{provider.slug} SAML SP")
        provider.sp_private_key_sealed = secret_seal(private_key)
    else:
        provider.client_secret_sealed = secret_seal(client_secret)
    try:
        with transaction.atomic():
            provider.save()
    except IntegrityError as error:
        raise ValidationError(_("This provider is already set up.")) from error
    after = _snapshot(provider)
    after["signing_key" if kind == Kind.SAML else "client_secret"] = "set"
    audit_record(
        actor=actor, action="identity_provider.create", target=provider, after=after,
        request=request,
    )  # fmt: skip
    return provider


@transaction.atomic
def identity_provider_update(
    *,
    actor,
    provider: IdentityProvider,
    client_secret: str = "",
    request=None,
    saml_metadata_file: str = "",
    **changes,
) -> IdentityProvider:
    """Change the editable fields in `changes`; a non-empty `client_secret` replaces the
    stored one (an empty one keeps it: the secret is never shown, only replaced). SAML: new
    metadata is read from `saml_metadata_file`, or from the metadata URL when it changed."""
    before = _snapshot(provider)
    url_before = provider.saml_metadata_url
    for field, value in changes.items():
        if field not in EDITABLE_FIELDS:
            raise ValueError(f"{field} cannot be changed")
        setattr(provider, field, value)
    if provider.is_saml and not saml_metadata_file and provider.saml_metadata_url == url_before:
        saml_metadata_file = provider.saml_metadata_xml  # the metadata read before
    _clean(provider, saml_metadata_file)
    if client_secret:
        _client_secret_check(provider.kind, client_secret)
    if client_secret and not provider.is_saml:
        provider.client_secret_sealed = secret_seal(client_secret)
    provider.save()
    after = _snapshot(provider)
    changed_before = {key: value for key, value in before.items() if after[key] != value}
    changed_after = {key: after[key] for key in changed_before}
    if client_secret:
        changed_before["client_secret"], changed_after["client_secret"] = "set", "replaced"
    if changed_after:
        audit_record(
            actor=actor, action="identity_provider.update", target=provider,
            before=changed_before, after=changed_after, request=request,
        )  # fmt: skip
    return provider


def identity_provider_enabled_set(
    *, actor, provider: IdentityProvider, enabled: bool, request=None
) -> IdentityProvider:
    """Disabling keeps the linked accounts but stops new sign-ins through the IdP."""
    return identity_provider_update(
        actor=actor, provider=provider, enabled=enabled, request=request
    )


@transaction.atomic
def identity_provider_delete(*, actor, provider: IdentityProvider, request=None) -> None:
    """Delete the IdP and the links to it (they can never sign in again)."""
    links = SocialAccount.objects.filter(provider=provider.slug)
    linked = links.count()
    links.delete()
    before = {**_snapshot(provider), "linked_identities": linked}
    audit_record(
        actor=actor, action="identity_provider.delete", target=provider, before=before,
        request=request,
    )  # fmt: skip
    provider.delete()


# Reading a SAML IdP's metadata again ----------------------------------------------------


def _thumbprints(certificates) -> list[str]:
    from federation.saml import certificate_summary

    summaries = [certificate_summary(body) for body in certificates]
    return [summary["thumbprint"] if summary else "unreadable" for summary in summaries]


def identity_provider_metadata_refresh(
    *, actor, provider: IdentityProvider, request=None
) -> list[str]:
    """Fetch a SAML IdP's metadata again from its URL (through federation.http's guarded
    session, as when it was added) and use the sign-on URL and the signing certificates it
    lists now: how a key rollover at the IdP reaches the sign-ins. Returns what changed, in
    plain words (empty: nothing did). Raises ValidationError in plain words when the metadata
    cannot be fetched or read, or cannot be used; nothing changes then. A change is audited
    with the certificates' thumbprints before and after."""
    from federation import saml

    url = provider.saml_metadata_url
    if not provider.is_saml or not url:
        raise ValueError("only a SAML IdP configured by metadata URL is read again")
    problem = discovery_url_problem(url)
    if problem:
        raise ValidationError(problem)
    # Fetched outside the transaction: no row stays locked while the IdP takes its time.
    xml = saml.metadata_fetch(url)
    idp = saml.metadata_parse(xml, provider.saml_entity_id)
    problem = _saml_sso_url_problem(idp["sso_url"])
    if problem:
        raise ValidationError(problem)
    with transaction.atomic():
        # Deleted, or its URL changed (that Save read the new URL), meanwhile: nothing to do.
        current = (
            IdentityProvider.objects.select_for_update()
            .filter(pk=provider.pk, saml_metadata_url=url)
            .first()
        )
        if current is None:
            return []
        certificates = idp["certificates"]
        changes = []
        before, after = {}, {}
        if set(certificates) != set(current.saml_certificates):
            added = [body for body in certificates if body not in current.saml_certificates]
            gone = [body for body in current.saml_certificates if body not in certificates]
            for summary in filter(None, map(saml.certificate_summary, added)):
                changes.append(
                    _("New signing certificate %(thumbprint)s, valid until %(date)s.")
                    % {
                        "thumbprint": summary["thumbprint"],
                        "date": summary["not_after"].date().isoformat(),
                    }
                )
            for thumbprint in _thumbprints(gone):
                changes.append(
                    _("Signing certificate %(thumbprint)s is no longer listed.")
                    % {"thumbprint": thumbprint}
                )
        if idp["sso_url"] != current.saml_sso_url:
            before["saml_sso_url"], after["saml_sso_url"] = current.saml_sso_url, idp["sso_url"]
            changes.append(_("Sign-ins go to %(url)s.") % {"url": idp["sso_url"]})
        if not changes:
            return []
        before["certificates"] = _thumbprints(current.saml_certificates)
        after["certificates"] = _thumbprints(certificates)
        current.saml_metadata_xml = xml
        current.saml_sso_url = idp["sso_url"]
        current.saml_certificates = certificates
        current.save(
            update_fields=[
                "saml_metadata_xml", "saml_sso_url", "saml_certificates", "updated_at"
            ]
        )  # fmt: skip
        audit_record(
            actor=actor, action="identity_provider.metadata_refresh", target=current,
            before=before, after=after, request=request,
        )  # fmt: skip
    provider.saml_metadata_xml = current.saml_metadata_xml
    provider.saml_sso_url = current.saml_sso_url
    provider.saml_certificates = current.saml_certificates
    return changes


def identity_providers_metadata_refresh_all() -> dict[str, int]:
    """Nightly (federation.tasks): read again the metadata of each SAML IdP of this tenant
    configured by URL, as Entra ID does for its SAML federations. An IdP that fails keeps
    what it had; its failure is logged and audited with the reason (the admin finds it in
    the audit log), and the other IdPs are still read."""
    counts = {"changed": 0, "unchanged": 0, "failed": 0}
    providers = (
        IdentityProvider.objects.filter(kind=Kind.SAML).exclude(saml_metadata_url="").order_by("pk")
    )
    for provider in providers:
        try:
            changes = identity_provider_metadata_refresh(actor=None, provider=provider)
        except ValidationError as error:
            reason = " ".join(error.messages)
        except Exception:
            logger.exception(
                "federation.saml_metadata_refresh_error schema=%s provider=%s",
                connection.schema_name, provider.slug,
            )  # fmt: skip
            reason = _("An unexpected error stopped it; the server's log has the details.")
        else:
            counts["changed" if changes else "unchanged"] += 1
            continue
        counts["failed"] += 1
        logger.warning(
            "federation.saml_metadata_refresh_failed schema=%s provider=%s reason=%s",
            connection.schema_name, provider.slug, reason,
        )  # fmt: skip
        audit_record(
            actor=None, action="identity_provider.metadata_refresh_fail", target=provider,
            after={"metadata_url": provider.saml_metadata_url, "reason": reason},
        )  # fmt: skip
    return counts


def client_secret_of(provider: IdentityProvider) -> str:
    return secret_open(provider.client_secret_sealed) if provider.client_secret_sealed else ""


def redirect_uri(provider: IdentityProvider) -> str:
    """The callback URL to register at the IdP, on the tenant's primary domain."""
    from tenants.selectors import tenant_url

    if provider.is_openid_connect:
        path = reverse("openid_connect_callback", kwargs={"provider_id": provider.slug})
    elif provider.is_saml:
        from federation.saml import sp_acs_url

        return sp_acs_url(provider)
    else:
        path = reverse(f"{provider.kind}_callback")
    return tenant_url(connection.tenant, path)


def home_realm_redirect(
    request, provider: IdentityProvider, *, next_url: str, login_hint="", process="login"
):
    """The redirect that starts a sign-in at `provider` (home-realm discovery, an invitation
    redeemed with it), as its button would, passing the address as the IdP's `login_hint`.
    `process` is allauth's ("login") or federation.adapter.REDEEM_PROCESS."""
    from allauth.socialaccount.adapter import get_adapter

    upstream = get_adapter().get_provider(request, provider.allauth_provider_id)
    if provider.is_saml:
        return upstream.redirect(request, process, next_url=next_url or None)
    auth_params = upstream.get_auth_params()
    if login_hint:
        auth_params["login_hint"] = login_hint
    try:
        return upstream.redirect(
            request, process, next_url=next_url or None, auth_params=auth_params
        )
    except requests.RequestException as error:
        # Its discovery document could not be fetched (or may not be: federation.http):
        # allauth's "sign-in failed" page, logged, rather than a server error.
        from allauth.socialaccount.helpers import render_authentication_error

        return render_authentication_error(request, upstream, exception=error)


# Connection test ------------------------------------------------------------------------

DISCOVERY_URLS = {
    Kind.GOOGLE: "https://accounts.google.com/.well-known/openid-configuration",
    Kind.MICROSOFT: "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration",
    Kind.APPLE: "https://appleid.apple.com/.well-known/openid-configuration",
}  # fmt: skip


def connection_test(provider: IdentityProvider) -> tuple[bool, list[str]]:
    """Fetch the IdP's discovery document and say, in plain words, what is wrong with it
    (or what was found). Returns (ok, lines)."""
    if provider.is_saml:
        return saml_connection_test(provider)
    if provider.kind in (Kind.GITHUB, Kind.FACEBOOK):
        return True, [
            _(
                "%(name)s publishes no discovery document for this sign-in; its client id "
                "and secret are checked at the first sign-in."
            )
            % {"name": provider.get_kind_display()}
        ]
    if provider.is_openid_connect:
        url = provider.discovery_url
    else:
        url = DISCOVERY_URLS[Kind(provider.kind)].format(tenant=provider.entra_tenant or "common")
    problem = discovery_url_problem(url)
    if problem:
        return False, [problem]
    try:
        with idp_session() as session:
            response = session.get(url, headers={"Accept": "application/json"})
    except UnsafeDestination as error:
        return False, [str(error)]
    except requests.Timeout:
        return False, [_("The provider did not answer in time (%(url)s).") % {"url": url}]
    except requests.ConnectionError:
        return False, [
            _(
                "Could not connect to %(host)s: check the URL, and that the provider is "
                "reachable from this server."
            )
            % {"host": urlsplit(url).netloc}
        ]
    except requests.RequestException:
        return False, [_("The request to %(url)s failed.") % {"url": url}]
    if response.status_code != 200:
        return False, [
            _("%(url)s answered with HTTP %(status)s instead of the discovery document.")
            % {"url": url, "status": response.status_code}
        ]
    try:
        document = response.json()
    except ValueError:
        return False, [_("%(url)s did not answer with JSON.") % {"url": url}]
    if not isinstance(document, dict):
        return False, [_("%(url)s did not answer with a discovery document.") % {"url": url}]
    problems = []
    for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(document.get(key), str) or not document.get(key):
            problems.append(_("The discovery document has no %(key)s.") % {"key": key})
    for key in ("token_endpoint", "userinfo_endpoint", "jwks_uri"):
        endpoint = document.get(key)
        if isinstance(endpoint, str) and endpoint:
            problem = destination_problem(endpoint)
            if problem:
                problems.append(
                    _("The discovery document's %(key)s (%(url)s) cannot be used: %(problem)s")
                    % {"key": key, "url": endpoint, "problem": problem}
                )
    expected_issuer = url[: -len(DISCOVERY_PATH)] if url.endswith(DISCOVERY_PATH) else None
    if (
        provider.kind == Kind.OPENID_CONNECT
        and expected_issuer
        and document.get("issuer")
        and document["issuer"] != expected_issuer
    ):
        problems.append(
            _("The document's issuer is %(found)s, not %(expected)s: ID tokens would be refused.")
            % {"found": document["issuer"], "expected": expected_issuer}
        )
    methods = document.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        problems.append(_("The provider does not support PKCE with S256."))
    if problems:
        return False, problems
    return True, [
        _("The discovery document was found. Issuer: %(issuer)s.") % {"issuer": document["issuer"]},
        _("Sign-ins go to %(endpoint)s.") % {"endpoint": document["authorization_endpoint"]},
    ]


def saml_connection_test(provider: IdentityProvider) -> tuple[bool, list[str]]:
    """Fetch the SAML IdP's metadata again (when it has a URL) and compare it with what the
    sign-ins use."""
    from federation import saml

    xml = provider.saml_metadata_xml
    lines = []
    if provider.saml_metadata_url:
        try:
            xml = saml.metadata_fetch(provider.saml_metadata_url)
        except ValidationError as error:
            return False, error.messages
    try:
        idp = saml.metadata_parse(xml, provider.saml_entity_id)
    except ValidationError as error:
        return False, error.messages
    problems = []
    # A new certificate beside the current one (a key rollover begins) or one gone (it ended):
    # the sign-ins check signatures with the certificates stored, which the metadata read
    # again replaces (identity_provider_metadata_refresh: the page's button, and nightly).
    if set(idp["certificates"]) != set(provider.saml_certificates):
        problems.append(
            _("The IdP's metadata lists other signing certificates than the ones in use.")
        )
    if idp["sso_url"] != provider.saml_sso_url:
        problems.append(_("The IdP's sign-on URL is now %(url)s.") % {"url": idp["sso_url"]})
    if problems and provider.saml_metadata_url:
        problems.append(_("Press “Read the metadata again” to use what it says now."))
    elif problems:
        problems.append(_("Upload the IdP's metadata again (Edit) to use what it says now."))
    certificates = [saml.certificate_summary(body) for body in idp["certificates"]]
    now = time.time()
    if all(certificate["not_after"].timestamp() < now for certificate in certificates):
        problems.append(_("Every signing certificate of the IdP has expired: sign-ins will fail."))
    if problems:
        return False, problems
    lines.append(_("The metadata was read. Entity id: %(entity)s.") % {"entity": idp["entity_id"]})
    lines.append(_("Sign-ins go to %(url)s.") % {"url": idp["sso_url"]})
    for certificate in certificates:
        values = {
            "thumbprint": certificate["thumbprint"],
            "date": certificate["not_after"].date().isoformat(),
        }
        if certificate["not_after"].timestamp() < now:
            lines.append(_("Signing certificate %(thumbprint)s expired on %(date)s.") % values)
        else:
            lines.append(_("Signing certificate %(thumbprint)s is valid until %(date)s.") % values)
    return True, lines


# Linked identities --------------------------------------------------------------------


def sign_in_ways_other_than(user, account: SocialAccount) -> list[str]:
    """How `user` could still sign in without `account`: a password, an emailed code, or
    another linked identity whose IdP is enabled."""
    from allauth.core import context

    from accounts.selectors import user_flow_for

    ways = []
    if user.has_usable_password():
        ways.append("password")
    flow = user_flow_for(context.request) if context.request is not None else None
    if flow is not None and flow.email_code_enabled and user.email:
        ways.append("email_code")
    enabled = set(IdentityProvider.objects.filter(enabled=True).values_list("slug", flat=True))
    others = SocialAccount.objects.filter(user=user, provider__in=enabled).exclude(pk=account.pk)
    if others.exists():
        ways.append("identity")
    return ways


@transaction.atomic
def identity_unlink(*, user, account: SocialAccount, request=None) -> None:
    if account.user_id != user.pk:
        raise ValidationError(_("This identity is not linked to your account."))
    if not sign_in_ways_other_than(user, account):
        raise ValidationError(
            _("This is your only way to sign in: set a password or link another identity first.")
        )
    before = {"provider": account.provider, "subject": account.uid}
    account.delete()
    audit_record(actor=user, action="identity.unlink", target=user, before=before, request=request)


@transaction.atomic
def identity_link(*, request, user, sociallogin) -> SocialAccount:
    """Link the upstream identity of `sociallogin` to `user`, who is signed in."""
    account = sociallogin.account
    if SocialAccount.objects.filter(provider=account.provider, uid=account.uid).exists():
        raise ValidationError(_("This identity is already linked to an account."))
    sociallogin.connect(request, user)  # audited by identity_linked_audit (allauth's signal)
    return sociallogin.account


def identity_link_new_user(*, request, user, sociallogin) -> SocialAccount:
    """Link the upstream identity of `sociallogin` to `user`, just created for it (a guest
    who redeemed an invitation with it): no "identity linked" notice to a new account."""
    account = sociallogin.account
    if SocialAccount.objects.filter(provider=account.provider, uid=account.uid).exists():
        raise ValidationError(_("This identity is already linked to an account."))
    sociallogin.user = user
    sociallogin.save(request, connect=True)
    identity_linked_audit(None, request=request, sociallogin=sociallogin)
    return sociallogin.account


def identity_linked_audit(sender, request, sociallogin, **kwargs) -> None:
    """allauth's social_account_added: an identity linked here or from allauth's connect
    flow (My account > Linked identities > Link)."""
    account = sociallogin.account
    audit_record(
        actor=sociallogin.user, action="identity.link", target=sociallogin.user,
        after={"provider": account.provider, "subject": account.uid}, request=request,
    )  # fmt: skip


def identity_unlinked_audit(sender, request, socialaccount, **kwargs) -> None:
    """allauth's social_account_removed (its own connections page)."""
    audit_record(
        actor=socialaccount.user, action="identity.unlink", target=socialaccount.user,
        before={"provider": socialaccount.provider, "subject": socialaccount.uid},
        request=request,
    )  # fmt: skip


# Per-app choice of identity providers -----------------------------------------------------


@transaction.atomic
def app_identity_providers_set(*, actor, application, providers, request=None) -> None:
    """`providers`: the IdPs `application` allows (an iterable, possibly empty), or None for
    every enabled IdP. Audited on the app."""
    from federation.models import AppIdentityProviders

    choice = AppIdentityProviders.objects.filter(application=application).first()
    before = sorted(p.slug for p in choice.identity_providers.all()) if choice else "all"
    if providers is None:
        if choice is not None:
            choice.delete()
        after = "all"
    else:
        providers = list(providers)
        if choice is None:
            choice = AppIdentityProviders.objects.create(application=application)
        choice.identity_providers.set(providers)
        choice.save(update_fields=["updated_at"])
        after = sorted(p.slug for p in providers)
    if before != after:
        audit_record(
            actor=actor, action="application.identity_providers", target=application,
            before={"identity_providers": before}, after={"identity_providers": after},
            request=request,
        )  # fmt: skip
