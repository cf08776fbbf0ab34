"""Run by the stock MLflow: load models Kiln logged to a Kiln server.

Usage: python mlflow_loads_from_server.py <tracking uri> <input.json> <uri>...
Prints one JSON object: model URI → list of predictions.
"""

import json
import sys

import mlflow
import pandas as pd

mlflow.set_tracking_uri(sys.argv[1])
with open(sys.argv[2]) as file:
    body = json.load(file)
frame = pd.DataFrame(body["data"], columns=body["columns"])
results = {}
for uri in sys.argv[3:]:
    model = mlflow.pyfunc.load_model(uri)
    results[uri] = [float(v) for v in model.predict(frame)]
print(json.dumps(results))
