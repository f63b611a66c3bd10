"""Federated governance as code: policies written once in mesh.yaml, applied to every contract.

Static policies are checked by `meshc check` (MC4xx, located at the offending line, naming the
policy). Policies that imply row rules (money_non_negative) are also injected at run time and
report under the policy's id. PII masking is applied to outputs and quarantines by the runner.
"""

from typing import Any

from meshc.governance.policies import check_policies
from meshc.governance.project import load_mesh

__all__ = ["check_policies", "injected_checks", "load_mesh"]


def __getattr__(name: str) -> Any:
    # injected_checks builds compiled row checks: imported when a run asks, not by `meshc check`
    if name == "injected_checks":
        from meshc.governance.money import injected_checks

        return injected_checks
    raise AttributeError(f"module 'meshc.governance' has no attribute {name!r}")
