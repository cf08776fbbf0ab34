"""Move a guarded alias with the stock mlflow client against a Kiln server.

Usage: ``python mlflow_promotion_rule_flow.py http://127.0.0.1:PORT RUN_ID``,
where version 1 of the model ``churn`` comes from run RUN_ID, which logged
``val_auc`` = 0.85 and no ``validated`` tag, and the alias ``champion`` is
guarded by ``metrics.val_auc >= 0.9 AND tags.validated = 'true'``. Prints
COMPAT-OK when the first move is refused with INVALID_PARAMETER_VALUE and
leaves the alias unset, and the move succeeds once the run meets the rule.
"""

from __future__ import annotations

import sys

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

base_url, run_id = sys.argv[1], sys.argv[2]
client = MlflowClient(tracking_uri=base_url)

try:
    client.set_registered_model_alias("churn", "champion", "1")
except MlflowException as error:
    assert error.error_code == "INVALID_PARAMETER_VALUE", error.error_code
    message = str(error)
    for failure in (
        f"metrics.val_auc >= 0.9 failed: run {run_id} has val_auc = 0.85",
        f"tags.validated = 'true' failed: run {run_id} has no tag validated",
    ):
        assert failure in message, message
else:
    raise AssertionError("a move that fails the promotion rule must be refused")

assert client.get_registered_model("churn").aliases == {}, "the alias moved"
try:
    client.get_model_version_by_alias("churn", "champion")
except MlflowException as error:
    assert error.error_code == "INVALID_PARAMETER_VALUE", error.error_code
else:
    raise AssertionError("the refused alias must not exist")

client.log_metric(run_id, "val_auc", 0.93)
client.set_tag(run_id, "validated", "true")
client.set_registered_model_alias("churn", "champion", "1")
held = client.get_model_version_by_alias("churn", "champion")
assert str(held.version) == "1", held
print("COMPAT-OK")
