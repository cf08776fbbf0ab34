"""Run by the stock MLflow: load Kiln-saved models and print their predictions.

Usage: python mlflow_loads_kiln.py <input.json> <model folder>...
Prints one JSON object: folder → list of predictions.
"""

import json
import sys

import mlflow
import pandas as pd

with open(sys.argv[1]) as file:
    body = json.load(file)
frame = pd.DataFrame(body["data"], columns=body["columns"])
results = {}
for folder in sys.argv[2:]:
    model = mlflow.pyfunc.load_model(folder)
    results[folder] = [float(v) for v in list(model.predict(frame))]
    if "sklearn" in model.metadata.flavors:
        estimator = mlflow.sklearn.load_model(folder)
        assert list(estimator.predict(frame)) == list(model.predict(frame))
print(json.dumps(results))
