"""Run in MLflow's environment with Kiln on the path: load an MLflow custom
model through Kiln (its pickle refers to MLflow's own code).

Usage: python kiln_loads_mlflow_custom.py <model folder>
"""

import json
import sys

import pandas as pd

from kiln import pyfunc

frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [1, 0, 1, 0]})
model = pyfunc.load_model(sys.argv[1])
print(json.dumps([float(v) for v in model.predict(frame)]))
