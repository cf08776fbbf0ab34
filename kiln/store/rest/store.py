"""The tracking store that talks to a Kiln or MLflow server over REST.

Every method is one call (or, for a whole metric history, a few) to MLflow's
``/api/2.0/mlflow/...`` API, and raises the Kiln error matching the server's
error code. Which calls may be repeated after a passing failure is decided
per method; see :mod:`kiln.store.rest.http`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from urllib.parse import quote

import httpx

from kiln.entities import (
    DatasetInput,
    DatasetSummary,
    Experiment,
    LoggedModel,
    LoggedModelDataset,
    LoggedModelInput,
    LoggedModelOrderBy,
    LoggedModelOutput,
    LoggedModelParam,
    LoggedModelTag,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)
from kiln.errors import ResourceDoesNotExist
from kiln.store.base import (
    SEARCH_EXPERIMENTS_DEFAULT,
    SEARCH_LOGGED_MODELS_DEFAULT,
    SEARCH_RUNS_DEFAULT,
)
from kiln.store.rest.config import RestConfig
from kiln.store.rest.http import RestClient
from kiln.store.rest.promotion_rules import RestPromotionRules
from kiln.store.rest.registry import RestRegistry
from kiln.wire import (
    JSONObject,
    Message,
    dataset_input_to_dict,
    dataset_summary_from_dict,
    experiment_from_dict,
    logged_model_dataset_to_dict,
    logged_model_from_dict,
    logged_model_order_by_to_dict,
    logged_model_output_to_dict,
    metric_from_dict,
    metric_to_dict,
    param_to_dict,
    run_from_dict,
    run_info_from_dict,
    status_to_wire,
    tags_to_list,
)

__all__ = ["METRIC_HISTORY_PAGE_SIZE", "RestStore"]

_API = "/api/2.0/mlflow"
# MLflow registers this endpoint for its web UI only, under /ajax-api.
_SEARCH_DATASETS = "/ajax-api/2.0/mlflow/experiments/search-datasets"
# The page size MLflow's client asks for when it wants a whole history.
METRIC_HISTORY_PAGE_SIZE = 25_000


class RestStore(RestRegistry, RestPromotionRules):
    """A :class:`~kiln.store.base.TrackingStore` and
    :class:`~kiln.store.base.RegistryStore` backed by a tracking server.

    ``tracking_uri`` is the server's base URL, e.g. ``http://127.0.0.1:5000``
    (a path prefix is kept). Settings come from :class:`RestConfig`, by
    default read from the environment. ``transport``, ``sleep`` and
    ``uniform`` are for tests: they replace the network, the waits between
    retries and the jitter.
    """

    def __init__(
        self,
        tracking_uri: str,
        config: RestConfig | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        uniform: Callable[[float, float], float] | None = None,
    ) -> None:
        self.http = RestClient(
            tracking_uri, config, transport=transport, sleep=sleep, uniform=uniform
        )

    @property
    def base_url(self) -> str:
        """The server's base URL, without a trailing slash."""
        return self.http.base_url

    @property
    def http_client(self) -> httpx.Client:
        """The pooled HTTP client, shared with artifact transfers."""
        return self.http.client

    def close(self) -> None:
        """Close the pooled connections."""
        self.http.close()

    def __enter__(self) -> RestStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RestStore({self.base_url!r})"

    def _get(self, endpoint: str, fields: JSONObject) -> JSONObject:
        return self.http.call("GET", _API + endpoint, fields, idempotent=True)

    def _post(
        self, endpoint: str, fields: JSONObject, *, idempotent: bool
    ) -> JSONObject:
        return self.http.call("POST", _API + endpoint, fields, idempotent=idempotent)

    # -- experiments --------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[RunTag] = (),
    ) -> str:
        fields = {
            "name": name,
            "artifact_location": artifact_location,
            "tags": tags_to_list(tags),
        }
        answer = self._post("/experiments/create", fields, idempotent=False)
        return Message(answer).string("experiment_id", required=True)

    def get_experiment(self, experiment_id: str) -> Experiment:
        answer = self._get("/experiments/get", {"experiment_id": experiment_id})
        return _experiment(answer)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            answer = self._get("/experiments/get-by-name", {"experiment_name": name})
        except ResourceDoesNotExist:
            return None
        return _experiment(answer)

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_EXPERIMENTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        fields = {
            "view_type": ViewType.parse(view_type).name,
            "max_results": max_results,
            "filter": filter_string or None,
            "order_by": list(order_by or ()),
            "page_token": page_token,
        }
        # A search changes nothing, so it is safe to repeat.
        answer = self._post("/experiments/search", fields, idempotent=True)
        msg = Message(answer)
        experiments = [experiment_from_dict(e) for e in msg.messages("experiments")]
        return PagedList(experiments, msg.string("next_page_token") or None)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        fields = {"experiment_id": experiment_id, "new_name": new_name}
        self._post("/experiments/update", fields, idempotent=False)

    def delete_experiment(self, experiment_id: str) -> None:
        # Not repeatable: deleting twice answers RESOURCE_DOES_NOT_EXIST.
        fields = {"experiment_id": experiment_id}
        self._post("/experiments/delete", fields, idempotent=False)

    def restore_experiment(self, experiment_id: str) -> None:
        fields = {"experiment_id": experiment_id}
        self._post("/experiments/restore", fields, idempotent=False)

    def set_experiment_tag(self, experiment_id: str, tag: RunTag) -> None:
        # Setting a tag to the same value again changes nothing.
        fields = {"experiment_id": experiment_id, "key": tag.key, "value": tag.value}
        self._post("/experiments/set-experiment-tag", fields, idempotent=True)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        fields = {"experiment_id": experiment_id, "key": key}
        self._post("/experiments/delete-experiment-tag", fields, idempotent=False)

    # -- runs ---------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int | None,
        tags: Sequence[RunTag],
        run_name: str | None,
    ) -> Run:
        fields = {
            "experiment_id": experiment_id,
            "user_id": user_id,
            "start_time": start_time,
            "tags": tags_to_list(tags),
            "run_name": run_name,
        }
        answer = self._post("/runs/create", fields, idempotent=False)
        return run_from_dict(Message(answer).message("run", required=True))

    def get_run(self, run_id: str) -> Run:
        answer = self._get("/runs/get", _run_ref(run_id))
        return run_from_dict(Message(answer).message("run", required=True))

    def update_run_info(
        self,
        run_id: str,
        run_status: str | None,
        end_time: int | None,
        run_name: str | None,
    ) -> RunInfo:
        fields = {
            **_run_ref(run_id),
            "status": run_status,
            "end_time": end_time,
            "run_name": run_name,
        }
        # Writing the same status, end time and name again leaves the run as is.
        answer = self._post("/runs/update", fields, idempotent=True)
        return run_info_from_dict(Message(answer).message("run_info", required=True))

    def delete_run(self, run_id: str) -> None:
        self._post("/runs/delete", {"run_id": run_id}, idempotent=False)

    def restore_run(self, run_id: str) -> None:
        self._post("/runs/restore", {"run_id": run_id}, idempotent=False)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_RUNS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        fields = {
            "experiment_ids": list(experiment_ids),
            "filter": filter_string or None,
            "run_view_type": ViewType.parse(run_view_type).name,
            "max_results": max_results,
            "order_by": list(order_by or ()),
            "page_token": page_token,
        }
        answer = self._post("/runs/search", fields, idempotent=True)
        msg = Message(answer)
        runs = [run_from_dict(run) for run in msg.messages("runs")]
        return PagedList(runs, msg.string("next_page_token") or None)

    # -- logging ------------------------------------------------------------
    def log_metric(self, run_id: str, metric: Metric) -> None:
        fields = {**metric_to_dict(metric), **_run_ref(run_id)}
        # The server stores one row per identical point (Kiln's and MLflow's
        # SQL stores key metrics on run, key, step, timestamp and value), so
        # sending the same point twice leaves one point.
        self._post("/runs/log-metric", fields, idempotent=True)

    def log_param(self, run_id: str, param: Param) -> None:
        # Logging a param again with the same value succeeds and changes nothing.
        fields = {**_run_ref(run_id), "key": param.key, "value": param.value}
        self._post("/runs/log-parameter", fields, idempotent=True)

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        fields = {**_run_ref(run_id), "key": tag.key, "value": tag.value}
        self._post("/runs/set-tag", fields, idempotent=True)

    def record_logged_model(self, run_id: str, model_json: str) -> None:
        # Not repeatable: a second call appends the model a second time.
        fields = {"run_id": run_id, "model_json": model_json}
        self._post("/runs/log-model", fields, idempotent=False)

    def delete_tag(self, run_id: str, key: str) -> None:
        # Not repeatable: the second delete answers RESOURCE_DOES_NOT_EXIST.
        self._post("/runs/delete-tag", {"run_id": run_id, "key": key}, idempotent=False)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        fields = {
            "run_id": run_id,
            "metrics": [metric_to_dict(m) for m in metrics],
            "params": [param_to_dict(p) for p in params],
            "tags": tags_to_list(tags),
        }
        # Safe to repeat: identical metric points are stored once, a param
        # logged again with its value is accepted, and tags are overwritten.
        self._post("/runs/log-batch", fields, idempotent=True)

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[LoggedModelInput] = (),
    ) -> None:
        fields = {
            "run_id": run_id,
            "datasets": [dataset_input_to_dict(d) for d in datasets],
            "models": [{"model_id": m.model_id} for m in models],
        }
        # Safe to repeat: a run links each dataset (by name and digest) and
        # each model once, so a second identical call adds nothing.
        self._post("/runs/log-inputs", fields, idempotent=True)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        fields = {
            "run_id": run_id,
            "models": [logged_model_output_to_dict(m) for m in models],
        }
        self._post("/runs/outputs", fields, idempotent=False)

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        """One page of a metric's history, or the whole of it when
        ``max_results`` is None (fetched in pages of 25,000 points)."""
        if max_results is not None:
            return self._metric_history_page(
                run_id, metric_key, max_results, page_token
            )
        points: list[Metric] = []
        token = page_token
        while True:
            page = self._metric_history_page(
                run_id, metric_key, METRIC_HISTORY_PAGE_SIZE, token
            )
            points.extend(page)
            if not page.token or page.token == token:
                return PagedList(points)
            token = page.token

    def _metric_history_page(
        self, run_id: str, metric_key: str, max_results: int, page_token: str | None
    ) -> PagedList[Metric]:
        fields = {
            **_run_ref(run_id),
            "metric_key": metric_key,
            "max_results": max_results,
            "page_token": page_token,
        }
        msg = Message(self._get("/metrics/get-history", fields))
        # Servers (MLflow's, Kiln's) leave the run id out of each point.
        metrics = [metric_from_dict(m, run_id) for m in msg.messages("metrics")]
        return PagedList(metrics, msg.string("next_page_token") or None)

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        fields = {
            "run_ids": list(run_ids),
            "metric_key": metric_key,
            "max_results": max_results,
            "start_step": start_step,
            "end_step": end_step,
        }
        answer = self._get("/metrics/get-history-bulk-interval", fields)
        return [metric_from_dict(m) for m in Message(answer).messages("metrics")]

    def search_datasets(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        fields = {"experiment_ids": list(experiment_ids)}
        answer = self.http.call("POST", _SEARCH_DATASETS, fields, idempotent=True)
        summaries = Message(answer).messages("dataset_summaries")
        return [dataset_summary_from_dict(s) for s in summaries]

    # -- logged models ------------------------------------------------------
    def _model_call(
        self, method: str, model_id: str, suffix: str, fields: JSONObject
    ) -> JSONObject:
        # Every write here leaves the same state when repeated, except a tag
        # delete, whose repeat answers RESOURCE_DOES_NOT_EXIST.
        path = f"{_API}/logged-models/{quote(model_id, safe='')}{suffix}"
        idempotent = method != "DELETE" or not suffix
        return self.http.call(method, path, fields, idempotent=idempotent)

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] = (),
        params: Sequence[LoggedModelParam] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        fields = {
            "experiment_id": experiment_id,
            "name": name,
            "model_type": model_type,
            "source_run_id": source_run_id,
            "params": [{"key": p.key, "value": p.value} for p in params],
            "tags": [{"key": t.key, "value": t.value} for t in tags],
        }
        # Not repeatable: a second create makes a second model.
        answer = self._post("/logged-models", fields, idempotent=False)
        return _logged_model(answer)

    def get_logged_model(
        self, model_id: str, allow_deleted: bool = False
    ) -> LoggedModel:
        fields = {"allow_deleted": "true"} if allow_deleted else {}
        return _logged_model(self._model_call("GET", model_id, "", fields))

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        fields = {"model_id": model_id, "status": status_to_wire(status)}
        return _logged_model(self._model_call("PATCH", model_id, "", fields))

    def delete_logged_model(self, model_id: str) -> None:
        self._model_call("DELETE", model_id, "", {"model_id": model_id})

    def set_logged_model_tags(
        self, model_id: str, tags: Sequence[LoggedModelTag]
    ) -> None:
        fields = {
            "model_id": model_id,
            "tags": [{"key": t.key, "value": t.value} for t in tags],
        }
        self._model_call("PATCH", model_id, "/tags", fields)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._model_call("DELETE", model_id, f"/tags/{quote(key, safe='')}", {})

    def log_logged_model_params(
        self, model_id: str, params: Sequence[LoggedModelParam]
    ) -> None:
        fields = {
            "model_id": model_id,
            "params": [{"key": p.key, "value": p.value} for p in params],
        }
        self._model_call("POST", model_id, "/params", fields)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[LoggedModelDataset] = (),
        max_results: int = SEARCH_LOGGED_MODELS_DEFAULT,
        order_by: Sequence[LoggedModelOrderBy] = (),
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        fields = {
            "experiment_ids": list(experiment_ids),
            "filter": filter_string or None,
            "datasets": [logged_model_dataset_to_dict(d) for d in datasets],
            "max_results": max_results,
            "order_by": [logged_model_order_by_to_dict(o) for o in order_by],
            "page_token": page_token,
        }
        answer = self._post("/logged-models/search", fields, idempotent=True)
        msg = Message(answer)
        models = [logged_model_from_dict(m) for m in msg.messages("models")]
        return PagedList(models, msg.string("next_page_token") or None)


def _run_ref(run_id: str) -> JSONObject:
    # MLflow's client names the run both ways; old servers read only run_uuid.
    return {"run_id": run_id, "run_uuid": run_id}


def _experiment(answer: JSONObject) -> Experiment:
    return experiment_from_dict(Message(answer).message("experiment", required=True))


def _logged_model(answer: JSONObject) -> LoggedModel:
    return logged_model_from_dict(Message(answer).message("model", required=True))
