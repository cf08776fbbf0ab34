"""MLflow's JSON wire format for Kiln's entities, both directions.

Responses follow MLflow's conventions: proto field names in snake_case,
unset fields and empty lists left out, int64 as JSON numbers, non-finite
doubles as "NaN", "Infinity" and "-Infinity". Reading accepts snake_case and
lowerCamelCase names and int64 sent as strings. The server uses these
functions for its bodies; the REST store uses them for the client side.
"""

from kiln.wire.datasets import (
    dataset_from_dict,
    dataset_input_from_dict,
    dataset_input_to_dict,
    dataset_summary_from_dict,
    dataset_summary_to_dict,
    dataset_to_dict,
)
from kiln.wire.encoding import (
    JSONObject,
    compact,
    decode_double,
    dumps,
    encode_double,
    loads,
    parse_body,
)
from kiln.wire.experiments import VIEW_TYPES, experiment_from_dict, experiment_to_dict
from kiln.wire.files import file_info_from_dict, file_info_to_dict
from kiln.wire.logged import (
    as_message,
    metric_from_dict,
    metric_to_dict,
    param_from_dict,
    param_to_dict,
    tag_from_dict,
    tag_to_dict,
    tags_from_list,
    tags_to_list,
)
from kiln.wire.message import Message, camel_case
from kiln.wire.runs import (
    RUN_STATUSES,
    logged_model_input_from_dict,
    logged_model_input_to_dict,
    logged_model_output_from_dict,
    logged_model_output_to_dict,
    read_run_id,
    run_data_from_dict,
    run_data_to_dict,
    run_from_dict,
    run_info_from_dict,
    run_info_to_dict,
    run_inputs_from_dict,
    run_inputs_to_dict,
    run_outputs_from_dict,
    run_outputs_to_dict,
    run_to_dict,
)

__all__ = [
    "RUN_STATUSES",
    "VIEW_TYPES",
    "JSONObject",
    "Message",
    "as_message",
    "camel_case",
    "compact",
    "dataset_from_dict",
    "dataset_input_from_dict",
    "dataset_input_to_dict",
    "dataset_summary_from_dict",
    "dataset_summary_to_dict",
    "dataset_to_dict",
    "decode_double",
    "dumps",
    "encode_double",
    "experiment_from_dict",
    "experiment_to_dict",
    "file_info_from_dict",
    "file_info_to_dict",
    "loads",
    "logged_model_input_from_dict",
    "logged_model_input_to_dict",
    "logged_model_output_from_dict",
    "logged_model_output_to_dict",
    "metric_from_dict",
    "metric_to_dict",
    "param_from_dict",
    "param_to_dict",
    "parse_body",
    "read_run_id",
    "run_data_from_dict",
    "run_data_to_dict",
    "run_from_dict",
    "run_info_from_dict",
    "run_info_to_dict",
    "run_inputs_from_dict",
    "run_inputs_to_dict",
    "run_outputs_from_dict",
    "run_outputs_to_dict",
    "run_to_dict",
    "tag_from_dict",
    "tag_to_dict",
    "tags_from_list",
    "tags_to_list",
]
