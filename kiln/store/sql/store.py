"""The SQL tracking store: experiments, runs and metrics in SQLite or PostgreSQL.

``SqlStore`` implements :class:`kiln.store.base.TrackingStore`. It owns the
engine and the transactions; the SQL of each resource lives in its own module
(``experiments``, ``runs``, ``metrics``, ``inputs``, ``loading``). Every
method raises Kiln's errors only: driver errors become
:class:`~kiln.errors.StorageUnavailable` (database unreachable or locked for
too long) or a plain :class:`~kiln.errors.KilnError`, without SQL text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection

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
from kiln.search.paging import decode_page_token, encode_page_token
from kiln.search.sql import select_experiment_ids, select_run_ids
from kiln.store.base import (
    SEARCH_EXPERIMENTS_DEFAULT,
    SEARCH_EXPERIMENTS_MAX,
    SEARCH_LOGGED_MODELS_DEFAULT,
    SEARCH_LOGGED_MODELS_MAX,
    SEARCH_RUNS_DEFAULT,
    SEARCH_RUNS_MAX,
)
from kiln.store.model_history import parse_model_json
from kiln.store.sql import experiments as exp_sql
from kiln.store.sql import inputs as inputs_sql
from kiln.store.sql import logged_models as models_sql
from kiln.store.sql import runs as runs_sql
from kiln.store.sql.connections import HotConnections
from kiln.store.sql.engine import WRITE_OPTION, create_db_engine, translated_errors
from kiln.store.sql.loading import load_runs
from kiln.store.sql.metrics import MetricLog
from kiln.store.sql.migrate import upgrade_engine
from kiln.store.sql.model_history import append_logged_model
from kiln.store.sql.promotion_rules import SqlPromotionRules
from kiln.store.sql.registry_store import SqlRegistry
from kiln.store.sql.run_dicts import load_run_dicts
from kiln.validation import (
    MAX_BATCH_ENTITIES,
    MAX_BATCH_METRICS,
    validate_batch,
    validate_experiment_id,
    validate_key,
    validate_max_results,
    validate_param,
    validate_run_id,
    validate_tag,
)
from kiln.wire import JSONObject

T = TypeVar("T")

# A history page may be as large as the caller likes (MLflow's client asks
# for 25,000); the bound only keeps OFFSET arithmetic within 64 bits.
_HISTORY_PAGE_MAX = 2**53


class SqlStore(SqlRegistry, SqlPromotionRules):
    """Tracking and registry data in a SQL database, created or upgraded on
    first use.

    ``db_uri`` is ``sqlite:///path/to/kiln.db`` or
    ``postgresql://user@host/db``; new experiments keep their artifacts under
    ``<default_artifact_root>/<experiment_id>``, runs under
    ``<experiment location>/<run_id>/artifacts``.

    As in MLflow, a finished (or failed, or killed) run still accepts
    metrics, params and tags; only a deleted run refuses them. A run's latest
    metric value is the point with the highest step, then timestamp, then
    value, where a number counts as later than NaN at the same step and
    timestamp. The store is safe to share between threads; other processes
    may use the same database at the same time.
    """

    def __init__(self, db_uri: str, default_artifact_root: str) -> None:
        self._uri = db_uri
        self._artifact_root = exp_sql.resolve_artifact_root(default_artifact_root)
        self._engine = create_db_engine(db_uri)
        try:
            with translated_errors(db_uri):
                upgrade_engine(self._engine)
                with self._write() as connection:
                    exp_sql.ensure_default_experiment(connection, self._artifact_root)
                self._metrics = MetricLog(self._engine)
                # Runs are created on a connection held per thread, as
                # metrics are logged: the pool's checkout costs more.
                self._hot = HotConnections(self._engine)
        except BaseException:
            self._engine.dispose()
            raise

    def close(self) -> None:
        """Release the store's database connections."""
        self._metrics.close()
        self._hot.close_all()
        self._engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        # The write option makes SQLite take its write lock at BEGIN.
        with translated_errors(self._uri), self._engine.connect() as connection:
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                yield connection

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with (
            translated_errors(self._uri),
            self._engine.connect() as connection,
            connection.begin(),
        ):
            yield connection

    # -- experiments --------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[RunTag] = (),
    ) -> str:
        with self._write() as connection:
            return exp_sql.create_experiment(
                connection, name, artifact_location, tags, self._artifact_root
            )

    def get_experiment(self, experiment_id: str) -> Experiment:
        with self._read() as connection:
            return exp_sql.get_experiment(connection, experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        with self._read() as connection:
            return exp_sql.get_experiment_by_name(connection, name)

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_EXPERIMENTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """A page of experiments matching ``filter_string`` (MLflow's grammar)."""
        validate_max_results(max_results, SEARCH_EXPERIMENTS_MAX, "experiments")
        view = ViewType.parse(view_type)
        offset = decode_page_token(page_token)
        stmt = select_experiment_ids(
            filter_string, view, order_by, offset, max_results + 1
        )
        with self._read() as connection:
            ids = [int(found) for found in connection.execute(stmt).scalars()]
            page = exp_sql.load_experiments(connection, ids[:max_results])
        return _page(page, offset, max_results, len(ids))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        with self._write() as connection:
            exp_sql.rename_experiment(connection, experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        with self._write() as connection:
            exp_sql.delete_experiment(connection, experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        with self._write() as connection:
            exp_sql.restore_experiment(connection, experiment_id)

    def set_experiment_tag(self, experiment_id: str, tag: RunTag) -> None:
        with self._write() as connection:
            exp_sql.set_experiment_tag(connection, experiment_id, tag)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        with self._write() as connection:
            exp_sql.delete_experiment_tag(connection, experiment_id, key)

    # -- runs ---------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int | None,
        tags: Sequence[RunTag],
        run_name: str | None,
    ) -> Run:
        """Create a RUNNING run; a readable random name is chosen when none is given."""
        validate_experiment_id(experiment_id)
        with translated_errors(self._uri), self._hot.transaction() as cursor:
            return runs_sql.create_run(
                cursor,
                self._engine.dialect,
                experiment_id,
                user_id,
                start_time,
                tags,
                run_name,
            )

    def get_run(self, run_id: str) -> Run:
        validate_run_id(run_id)
        with self._read() as connection:
            found = load_runs(connection, [run_id])
        if not found:
            raise ResourceDoesNotExist(f"No run with id {run_id!r} exists.")
        return found[0]

    def update_run_info(
        self,
        run_id: str,
        run_status: str | None,
        end_time: int | None,
        run_name: str | None,
    ) -> RunInfo:
        with self._write() as connection:
            return runs_sql.update_run_info(
                connection, run_id, run_status, end_time, run_name
            )

    def delete_run(self, run_id: str) -> None:
        with self._write() as connection:
            runs_sql.delete_run(connection, run_id)

    def restore_run(self, run_id: str) -> None:
        with self._write() as connection:
            runs_sql.restore_run(connection, run_id)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_RUNS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """A page of runs of these experiments matching ``filter_string``."""
        return self._search_runs(
            load_runs,
            experiment_ids,
            filter_string,
            run_view_type,
            max_results,
            order_by,
            page_token,
        )

    def search_runs_json(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_RUNS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[JSONObject]:
        """:meth:`search_runs`, each run already in MLflow's JSON shape."""
        return self._search_runs(
            load_run_dicts,
            experiment_ids,
            filter_string,
            run_view_type,
            max_results,
            order_by,
            page_token,
        )

    def _search_runs(
        self,
        load: Callable[[Connection, Sequence[str], Sequence[Any]], list[T]],
        experiment_ids: Sequence[str],
        filter_string: str,
        run_view_type: ViewType,
        max_results: int,
        order_by: Sequence[str] | None,
        page_token: str | None,
    ) -> PagedList[T]:
        validate_max_results(max_results, SEARCH_RUNS_MAX, "runs")
        ids = [int(validate_experiment_id(exp_id)) for exp_id in experiment_ids]
        view = ViewType.parse(run_view_type)
        offset = decode_page_token(page_token)
        # The search reads the page's info rows along with the ids.
        stmt = select_run_ids(
            ids,
            filter_string,
            view,
            order_by,
            offset,
            max_results + 1,
            columns=runs_sql.info_columns(),
        )
        with self._read() as connection:
            found = connection.execute(stmt).all()
            infos = found[:max_results]
            page = load(connection, [info[0] for info in infos], infos)
        return _page(page, offset, max_results, len(found))

    # -- logging ------------------------------------------------------------
    def log_metric(self, run_id: str, metric: Metric) -> None:
        if metric.model_id is not None:
            # The model's copy must be written in the same transaction.
            self.log_batch(run_id, [metric])
            return
        with translated_errors(self._uri):
            self._metrics.log_metric(run_id, metric)

    def log_param(self, run_id: str, param: Param) -> None:
        validate_param(param)
        with self._write() as connection:
            runs_sql.check_run_active(connection, run_id)
            runs_sql.log_params(connection, run_id, [param])

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        validate_tag(tag)
        with self._write() as connection:
            runs_sql.check_run_active(connection, run_id)
            runs_sql.set_tags(connection, run_id, [tag])

    def delete_tag(self, run_id: str, key: str) -> None:
        with self._write() as connection:
            runs_sql.delete_tag(connection, run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Log everything in one transaction: all of it is stored, or none."""
        validate_run_id(run_id)
        if not params and not tags and self._metrics.log_plain(run_id, metrics):
            return
        self._validate_batch(metrics, params, tags)
        for_models = [m for m in metrics if m.model_id is not None]
        if not params and not tags and not for_models:
            # Metrics alone take the hot path: no pool checkout, no SQLAlchemy.
            with translated_errors(self._uri):
                self._metrics.log_points(run_id, metrics)
            return
        if not for_models:
            # Params and tags too go on the hot connection, through the
            # driver's cursor: the pool's checkout and SQLAlchemy's
            # transaction cost a fifth of a small batch.
            dialect = self._engine.dialect
            with translated_errors(self._uri), self._hot.transaction() as cursor:
                if metrics:
                    # Writing points checks the run first: no second look.
                    self._metrics.write_points_with(cursor, run_id, metrics)
                else:
                    runs_sql.check_run_active_with(cursor, dialect, run_id)
                runs_sql.log_params_with(cursor, dialect, run_id, params)
                runs_sql.set_tags_with(cursor, dialect, run_id, tags)
            return
        with self._write() as connection:
            runs_sql.check_run_active(connection, run_id)
            runs_sql.log_params(connection, run_id, params)
            runs_sql.set_tags(connection, run_id, tags)
            self._metrics.write_points(connection, run_id, metrics)
            models_sql.link_metrics(connection, run_id, for_models)

    def log_metrics_json(self, run_id: str, metrics: object) -> bool:
        """Log a request's JSON points if all are plain (see
        :class:`~kiln.store.base.MetricBatchJson`)."""
        validate_run_id(run_id)
        with translated_errors(self._uri):
            return self._metrics.log_plain_json(run_id, metrics)

    def _validate_batch(
        self, metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
    ) -> None:
        # Within the size limits only the points the quick check cannot vouch
        # for need the full validation; over them, the full call explains.
        total = len(metrics) + len(params) + len(tags)
        if len(metrics) <= MAX_BATCH_METRICS and total <= MAX_BATCH_ENTITIES:
            validate_batch(self._metrics.needing_validation(metrics), params, tags)
        else:
            validate_batch(metrics, params, tags)
        self._metrics.remember_keys(metrics)

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[LoggedModelInput] = (),
    ) -> None:
        inputs_sql.validate_inputs(datasets, models)
        with self._write() as connection:
            runs_sql.check_run_active(connection, run_id)
            info = runs_sql.get_run_info(connection, run_id)
            inputs_sql.log_inputs(
                connection, run_id, info.experiment_id, datasets, models
            )

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        with self._write() as connection:
            runs_sql.check_run_active(connection, run_id)
            inputs_sql.log_outputs(connection, run_id, models)

    def record_logged_model(self, run_id: str, model_json: str) -> None:
        model = parse_model_json(model_json)
        with self._write() as connection:
            append_logged_model(connection, run_id, model)

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        """Every point of one metric ordered by step then timestamp; all when
        ``max_results`` is None."""
        return self._metric_history(
            self._metrics.read_history, run_id, metric_key, max_results, page_token
        )

    def get_metric_history_json(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[JSONObject]:
        """:meth:`get_metric_history`, each point in MLflow's JSON shape."""
        return self._metric_history(
            self._metrics.read_history_json,
            run_id,
            metric_key,
            max_results,
            page_token,
        )

    def _metric_history(
        self,
        read: Callable[[Connection, str, str, int, int | None], list[T]],
        run_id: str,
        metric_key: str,
        max_results: int | None,
        page_token: str | None,
    ) -> PagedList[T]:
        validate_key(metric_key)
        if max_results is not None:
            validate_max_results(max_results, _HISTORY_PAGE_MAX, "metric history")
        offset = decode_page_token(page_token)
        limit = None if max_results is None else max_results + 1
        validate_run_id(run_id)
        # As in MLflow, an unknown run has an empty history rather than none.
        with self._read() as connection:
            points = read(connection, run_id, metric_key, offset, limit)
        if max_results is None:
            return PagedList(points)
        return _page(points[:max_results], offset, max_results, len(points))

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        """At most ``max_results`` points per run, sampled by row, first and
        last kept; each Metric carries its ``run_id``."""
        with self._read() as connection:
            return self._metrics.read_sampled(
                connection, run_ids, metric_key, max_results, start_step, end_step
            )

    def search_datasets(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        with self._read() as connection:
            return inputs_sql.search_datasets(connection, experiment_ids)

    # -- logged models ------------------------------------------------------
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] = (),
        params: Sequence[LoggedModelParam] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        with self._write() as connection:
            model_id = models_sql.create_logged_model(
                connection, experiment_id, name, source_run_id, tags, params, model_type
            )
            return models_sql.get_logged_model(connection, model_id)

    def get_logged_model(
        self, model_id: str, allow_deleted: bool = False
    ) -> LoggedModel:
        with self._read() as connection:
            return models_sql.get_logged_model(connection, model_id, allow_deleted)

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        with self._write() as connection:
            models_sql.finalize_logged_model(connection, model_id, status)
            return models_sql.get_logged_model(connection, model_id, True)

    def delete_logged_model(self, model_id: str) -> None:
        with self._write() as connection:
            models_sql.delete_logged_model(connection, model_id)

    def set_logged_model_tags(
        self, model_id: str, tags: Sequence[LoggedModelTag]
    ) -> None:
        with self._write() as connection:
            models_sql.set_logged_model_tags(connection, model_id, tags)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        with self._write() as connection:
            models_sql.delete_logged_model_tag(connection, model_id, key)

    def log_logged_model_params(
        self, model_id: str, params: Sequence[LoggedModelParam]
    ) -> None:
        with self._write() as connection:
            models_sql.log_logged_model_params(connection, model_id, params)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[LoggedModelDataset] = (),
        max_results: int = SEARCH_LOGGED_MODELS_DEFAULT,
        order_by: Sequence[LoggedModelOrderBy] = (),
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """A page of active models matching ``filter_string`` (see
        :mod:`kiln.search.sql.logged_models`)."""
        validate_max_results(max_results, SEARCH_LOGGED_MODELS_MAX, "logged models")
        offset = decode_page_token(page_token)
        with self._read() as connection:
            ids = models_sql.search_logged_model_ids(
                connection,
                experiment_ids,
                filter_string,
                datasets,
                order_by,
                offset,
                max_results + 1,
            )
            page = models_sql.load_logged_models(connection, ids[:max_results])
        return _page(page, offset, max_results, len(ids))


def _page(items: list[T], offset: int, max_results: int, fetched: int) -> PagedList[T]:
    # One row beyond the page was asked for: its presence means there is more.
    token = encode_page_token(offset + max_results) if fetched > max_results else None
    return PagedList(items, token)
