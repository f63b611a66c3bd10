"""Federated governance as code: policies written once in mesh.yaml, applied to every contract.

Static policies are checked by `meshc check` (MC4xx, located at the offending line, naming the
policy). Policies that imply row rules (money_non_negative) are also injected at run time and
report under the policy's id. PII masking is applied to outputs and quarantines by the runner.
"""

from meshc.governance.policies import check_policies, injected_checks
from meshc.governance.project import load_mesh

__all__ = ["check_policies", "injected_checks", "load_mesh"]
