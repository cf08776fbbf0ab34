"""Run by the stock MLflow: save a scikit-learn and a custom model for Kiln.

Usage: python mlflow_saves.py <out folder>
Writes <out>/sk and <out>/custom, and prints their predictions as JSON.
"""

import json
import sys

import mlflow
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

out = sys.argv[1]
frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [1, 0, 1, 0]})
estimator = LogisticRegression().fit(frame, [0, 1, 0, 1])
mlflow.sklearn.save_model(estimator, f"{out}/sk", input_example=frame.head(2))


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input["a"] * 2 + model_input["b"]


mlflow.pyfunc.save_model(f"{out}/custom", python_model=Doubler(), input_example=frame)
compound = pd.DataFrame(
    {"v": [[1.0, 2.0]], "o": [{"k": "x", "n": 1}], "i": np.array([1], dtype=np.int32)}
)
signature = mlflow.models.infer_signature(
    compound, np.zeros((1, 3), dtype=np.float32), params={"k": 3, "names": ["a"]}
)
print(
    json.dumps(
        {
            "sk": [float(v) for v in estimator.predict(frame)],
            "custom": [float(v) for v in Doubler().predict(None, frame)],
            "signature": signature.to_dict(),
        }
    )
)
