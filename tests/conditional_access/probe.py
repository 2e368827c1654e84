"""A login stage placed where the MFA stage goes (after conditional access): it records what
it reads through the interface the MFA stage uses."""

from __future__ import annotations

# allauth's stages module imports its flows, which import it back: load the flows first.
import allauth.account.internal.flows.login  # noqa: F401
from allauth.account.stages import LoginStage

from accounts.sign_in.adapter import AccountAdapter
from conditional_access.requirements import requirements_for

seen: list[set[str]] = []


class ProbeStage(LoginStage):
    key = "test_probe"

    def handle(self):
        seen.append(requirements_for(self.login))
        return None, True


class ProbeAdapter(AccountAdapter):
    def get_login_stages(self) -> list[str]:
        stages = super().get_login_stages()
        position = stages.index("conditional_access.stages.ConditionalAccessStage") + 1
        stages.insert(position, "tests.conditional_access.probe.ProbeStage")
        return stages
