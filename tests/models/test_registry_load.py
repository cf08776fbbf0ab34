"""Loading registered model versions by ``models:/`` URIs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import kiln
from kiln import pyfunc
from kiln import sklearn as kiln_sklearn


@pytest.mark.parametrize(
    "uri",
    ["models:/churn/1", "models:/churn/latest", "models:/churn@champion"],
)
def test_load_a_registered_version(
    frame: pd.DataFrame, labels: np.ndarray, uri: str
) -> None:
    estimator = LogisticRegression().fit(frame, labels)
    with kiln.start_run():
        info = kiln_sklearn.log_model(estimator, name="clf")
    version = kiln.register_model(info.model_uri, "churn")
    kiln.KilnClient().set_registered_model_alias("churn", "champion", version.version)

    loaded = pyfunc.load_model(uri)

    np.testing.assert_array_equal(loaded.predict(frame), estimator.predict(frame))
