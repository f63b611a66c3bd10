"""Bootstrapping contracts from data that already exists (issue #7).

    from meshc import infer_contract
    inferred = infer_contract("landing/orders.csv")      # or a folder, or a Polars/pandas frame
    inferred.save("contracts/orders.yaml")

Stages, one module each: profile (find datasets, sample, one pass of statistics) -> types (a type
only when every value parses) -> suggest and pii (robust rules with their evidence) -> writer
(YAML and the registry). `landing.bootstrap` does it for every dataset in a landing folder.
"""

from __future__ import annotations

from meshc.bootstrap.infer import InferredContract, infer_contract
from meshc.bootstrap.landing import BootstrapResult, bootstrap
from meshc.bootstrap.suggest import Suggestion

__all__ = ["BootstrapResult", "InferredContract", "Suggestion", "bootstrap", "infer_contract"]
