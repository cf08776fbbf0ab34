"""Run by the stock MLflow: log a scikit-learn model to a Kiln server.

Usage: python mlflow_logs_to_server.py <tracking uri>
Prints JSON with the model URI, the run id and the model's predictions.
"""

import json
import sys

import mlflow
import pandas as pd
from sklearn.linear_model import LogisticRegression

mlflow.set_tracking_uri(sys.argv[1])
frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [1, 0, 1, 0]})
estimator = LogisticRegression().fit(frame, [0, 1, 0, 1])
with mlflow.start_run() as run:
    info = mlflow.sklearn.log_model(estimator, name="clf", input_example=frame)
print(
    json.dumps(
        {
            "model_uri": info.model_uri,
            "run_id": run.info.run_id,
            "predictions": [float(v) for v in estimator.predict(frame)],
        }
    )
)
