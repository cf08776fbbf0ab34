"""Run inputs and outputs in SQL: datasets, their tags, and logged models.

A dataset is stored once per experiment, name and digest, and linked to
every run that used it; the ``mlflow.data.context`` input tag says how
(``training``, ``eval``...). Every function takes an open connection.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Connection, and_, select

from kiln.entities import (
    Dataset,
    DatasetInput,
    DatasetSummary,
    LoggedModelInput,
    LoggedModelOutput,
)
from kiln.errors import InvalidParameterValue
from kiln.store.sql.schema import (
    datasets,
    input_tags,
    run_inputs,
    run_model_inputs,
    run_model_outputs,
)
from kiln.store.sql.statements import insert_ignore
from kiln.validation import validate_dataset, validate_experiment_id, validate_input_tag

CONTEXT_TAG = "mlflow.data.context"
MAX_MODEL_ID_LENGTH = 64
SEARCH_DATASETS_MAX_EXPERIMENTS = 20
SEARCH_DATASETS_MAX_RESULTS = 1000


def validate_inputs(
    dataset_inputs: Sequence[DatasetInput], models: Sequence[LoggedModelInput]
) -> None:
    for item in dataset_inputs:
        validate_dataset(item.dataset)
        for tag in item.tags:
            validate_input_tag(tag)
    for model in models:
        validate_model_id(model.model_id)


def validate_model_id(model_id: object) -> None:
    if not isinstance(model_id, str) or not 0 < len(model_id) <= MAX_MODEL_ID_LENGTH:
        raise InvalidParameterValue(
            f"Invalid model id {model_id!r}; expected a non-empty string of at "
            f"most {MAX_MODEL_ID_LENGTH} characters."
        )


def log_inputs(
    connection: Connection,
    run_id: str,
    experiment_id: str,
    dataset_inputs: Sequence[DatasetInput],
    models: Sequence[LoggedModelInput],
) -> None:
    """Link datasets and models to an active run; repeats change nothing."""
    dialect = connection.dialect.name
    for item in dataset_inputs:
        dataset_id = _store_dataset(connection, int(experiment_id), item.dataset)
        linked = connection.execute(
            insert_ignore(dialect, run_inputs).values(
                run_id=run_id, dataset_id=dataset_id
            )
        )
        # The first use of a dataset by a run fixes its input tags.
        if linked.rowcount and item.tags:
            connection.execute(
                insert_ignore(dialect, input_tags),
                [
                    {
                        "run_id": run_id,
                        "dataset_id": dataset_id,
                        "key": t.key,
                        "value": t.value,
                    }
                    for t in item.tags
                ],
            )
    if models:
        connection.execute(
            insert_ignore(dialect, run_model_inputs),
            [{"run_id": run_id, "model_id": m.model_id} for m in models],
        )


def _store_dataset(connection: Connection, experiment_id: int, dataset: Dataset) -> str:
    connection.execute(
        insert_ignore(connection.dialect.name, datasets).values(
            dataset_id=uuid.uuid4().hex,
            experiment_id=experiment_id,
            name=dataset.name,
            digest=dataset.digest,
            source_type=dataset.source_type,
            source=dataset.source,
            schema=dataset.schema,
            profile=dataset.profile,
        )
    )
    found: str = connection.execute(
        select(datasets.c.dataset_id).where(
            datasets.c.experiment_id == experiment_id,
            datasets.c.name == dataset.name,
            datasets.c.digest == dataset.digest,
        )
    ).scalar_one()
    return found


def log_outputs(
    connection: Connection, run_id: str, models: Sequence[LoggedModelOutput]
) -> None:
    """Link logged models to a run as outputs; a repeat keeps the first step."""
    for model in models:
        validate_model_id(model.model_id)
        if isinstance(model.step, bool) or not isinstance(model.step, int):
            raise InvalidParameterValue(
                f"Invalid step {model.step!r} for model output {model.model_id!r}; "
                "expected an integer."
            )
    if models:
        connection.execute(
            insert_ignore(connection.dialect.name, run_model_outputs),
            [
                {"run_id": run_id, "model_id": m.model_id, "step": m.step}
                for m in models
            ],
        )


def search_datasets(
    connection: Connection, experiment_ids: Sequence[str]
) -> list[DatasetSummary]:
    """The datasets used by runs of these experiments, with their context."""
    if len(experiment_ids) > SEARCH_DATASETS_MAX_EXPERIMENTS:
        raise InvalidParameterValue(
            f"Got {len(experiment_ids)} experiment ids; at most "
            f"{SEARCH_DATASETS_MAX_EXPERIMENTS} may be searched at once."
        )
    ids = [int(validate_experiment_id(exp_id)) for exp_id in experiment_ids]
    if not ids:
        return []
    stmt = (
        select(
            datasets.c.experiment_id,
            datasets.c.name,
            datasets.c.digest,
            input_tags.c.value,
        )
        .distinct()
        .join(run_inputs, run_inputs.c.dataset_id == datasets.c.dataset_id)
        .outerjoin(
            input_tags,
            and_(
                input_tags.c.run_id == run_inputs.c.run_id,
                input_tags.c.dataset_id == run_inputs.c.dataset_id,
                input_tags.c.key == CONTEXT_TAG,
            ),
        )
        .where(datasets.c.experiment_id.in_(ids))
        .order_by(
            datasets.c.experiment_id,
            datasets.c.name,
            datasets.c.digest,
            input_tags.c.value.asc().nulls_first(),
        )
        .limit(SEARCH_DATASETS_MAX_RESULTS)
    )
    return [
        DatasetSummary(str(exp_id), name, digest, context)
        for exp_id, name, digest, context in connection.execute(stmt)
    ]
