"""The tracking schema as SQLAlchemy Core tables.

This is the shape the latest migration produces; the migrations under
``migrations/versions`` are the source of truth for how a database gets
there. Columns use the same words as the entities and the JSON fields.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# Indexes created on one dialect only (see ``params``); a schema comparison
# on the other leaves them out.
SQLITE_ONLY_INDEXES = frozenset({"ix_params_key_value_run", "ix_tags_key_value_run"})
POSTGRESQL_ONLY_INDEXES = frozenset({"ix_params_key_value", "ix_tags_key"})

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(500), nullable=False),
    Column("artifact_location", String(2048), nullable=False),
    Column("lifecycle_stage", String(32), nullable=False),
    Column("creation_time", BigInteger),
    Column("last_update_time", BigInteger),
    UniqueConstraint("name", name="uq_experiments_name"),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("experiment_id", "key", name="pk_experiment_tags"),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("run_name", String(250), nullable=False),
    Column("user_id", String(256), nullable=False),
    Column("status", String(20), nullable=False),
    Column("start_time", BigInteger),
    Column("end_time", BigInteger),
    Column("artifact_uri", String(2200), nullable=False),
    Column("lifecycle_stage", String(32), nullable=False),
    # When the run was soft-deleted; lets a restored experiment bring back
    # only the runs its own deletion took down.
    Column("deleted_time", BigInteger),
    Index("ix_runs_experiment_start", "experiment_id", "lifecycle_stage", "start_time"),
)

params = Table(
    "params",
    metadata,
    Column("run_id", String(32), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "key", name="pk_params"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
    # Covers "params.k = 'v'" searches without touching the table. SQLite
    # only: PostgreSQL refuses index entries over about 2.7 kB, and values
    # may be longer; it gets the narrower (key, run_id) instead, which on
    # SQLite would only cost every write a second index page.
    Index("ix_params_key_value_run", "key", "value", "run_id").ddl_if(dialect="sqlite"),
    Index("ix_params_key_value", "key", "run_id").ddl_if(dialect="postgresql"),
    # Stored in primary-key order on SQLite, so a run's params are one range
    # of one b-tree (see ``metrics``).
    sqlite_with_rowid=False,
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", String(32), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "key", name="pk_tags"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
    # As for params: a covering index for searches on SQLite, a narrower
    # one on PostgreSQL.
    Index("ix_tags_key_value_run", "key", "value", "run_id").ddl_if(dialect="sqlite"),
    Index("ix_tags_key", "key", "run_id").ddl_if(dialect="postgresql"),
    sqlite_with_rowid=False,
)

# A compact integer key per run, made when the run logs its first metric
# point. ``metrics`` holds many rows per run: keyed by this number instead of
# the 32-character run id, each row is about half as long, so a batch of
# points writes fewer pages and compares shorter keys. Deleting the run
# deletes its key, and with it the run's points. AUTOINCREMENT on SQLite: a
# key is never handed out twice.
run_keys = Table(
    "run_keys",
    metadata,
    Column("run_key", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False),
    UniqueConstraint("run_id", name="uq_run_keys_run_id"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
    sqlite_autoincrement=True,
)

# Every point of every metric. NaN is stored as value 0 with is_nan set,
# because SQLite turns a NaN REAL into NULL; infinities are stored as they are.
# The primary key makes an identical point sent twice land once. On SQLite
# the table is stored in primary-key order (WITHOUT ROWID): inserts update
# one b-tree instead of two, and a history reads its points in order.
metrics = Table(
    "metrics",
    metadata,
    Column("run_key", Integer, nullable=False),
    Column("key", String(250), nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("value", Float(53), nullable=False),
    Column("is_nan", Boolean, nullable=False),
    Column("model_id", String(64)),
    Column("dataset_name", String(500)),
    Column("dataset_digest", String(36)),
    PrimaryKeyConstraint(
        "run_key", "key", "step", "timestamp", "value", "is_nan", name="pk_metrics"
    ),
    ForeignKeyConstraint(["run_key"], ["run_keys.run_key"], ondelete="CASCADE"),
    sqlite_with_rowid=False,
)

# The latest point per run and key (highest step, then timestamp, then value),
# kept in the same transaction as the insert into ``metrics``; searches and
# ``get_run`` read only this table.
latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_id", String(32), nullable=False),
    Column("key", String(250), nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("value", Float(53), nullable=False),
    Column("is_nan", Boolean, nullable=False),
    PrimaryKeyConstraint("run_id", "key", name="pk_latest_metrics"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
    # Covers metric comparisons (value and NaN flag) and yields the run ids.
    Index("ix_latest_metrics_key_value", "key", "value", "is_nan", "run_id"),
    sqlite_with_rowid=False,
)

datasets = Table(
    "datasets",
    metadata,
    Column("dataset_id", String(32), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(500), nullable=False),
    Column("digest", String(36), nullable=False),
    Column("source_type", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("schema", Text),
    Column("profile", Text),
    UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets_identity"),
)

# A dataset used by a run; one row per (run, dataset).
run_inputs = Table(
    "run_inputs",
    metadata,
    Column("run_id", String(32), nullable=False),
    Column(
        "dataset_id",
        String(32),
        ForeignKey("datasets.dataset_id", ondelete="CASCADE"),
        nullable=False,
    ),
    PrimaryKeyConstraint("run_id", "dataset_id", name="pk_run_inputs"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
    Index("ix_run_inputs_dataset", "dataset_id"),
)

input_tags = Table(
    "input_tags",
    metadata,
    Column("run_id", String(32), nullable=False),
    Column("dataset_id", String(32), nullable=False),
    Column("key", String(255), nullable=False),
    Column("value", String(500), nullable=False),
    PrimaryKeyConstraint("run_id", "dataset_id", "key", name="pk_input_tags"),
    ForeignKeyConstraint(
        ["run_id", "dataset_id"],
        ["run_inputs.run_id", "run_inputs.dataset_id"],
        ondelete="CASCADE",
    ),
)

run_model_inputs = Table(
    "run_model_inputs",
    metadata,
    Column("run_id", String(32), nullable=False),
    Column("model_id", String(64), nullable=False),
    PrimaryKeyConstraint("run_id", "model_id", name="pk_run_model_inputs"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
)

run_model_outputs = Table(
    "run_model_outputs",
    metadata,
    Column("run_id", String(32), nullable=False),
    Column("model_id", String(64), nullable=False),
    Column("step", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_id", "model_id", name="pk_run_model_outputs"),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
)

# Models logged by runs (or on their own); a soft delete sets lifecycle_stage.
logged_models = Table(
    "logged_models",
    metadata,
    Column("model_id", String(64), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(500), nullable=False),
    Column("artifact_location", String(2200), nullable=False),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),
    Column("status_message", Text),
    Column("creator_id", BigInteger),
    Column("model_type", String(500)),
    Column("source_run_id", String(32)),
    Column("lifecycle_stage", String(32), nullable=False),
    Index(
        "ix_logged_models_experiment_created",
        "experiment_id",
        "lifecycle_stage",
        "creation_timestamp",
    ),
)

logged_model_tags = Table(
    "logged_model_tags",
    metadata,
    Column("model_id", String(64), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "key", name="pk_logged_model_tags"),
    ForeignKeyConstraint(["model_id"], ["logged_models.model_id"], ondelete="CASCADE"),
)

logged_model_params = Table(
    "logged_model_params",
    metadata,
    Column("model_id", String(64), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "key", name="pk_logged_model_params"),
    ForeignKeyConstraint(["model_id"], ["logged_models.model_id"], ondelete="CASCADE"),
)

# The points logged with a model's id, copied from ``metrics``: MLflow's client
# re-logs a run's existing points with the model's id, and in ``metrics`` the
# identical point is kept once, without it.
logged_model_metrics = Table(
    "logged_model_metrics",
    metadata,
    Column("model_id", String(64), nullable=False),
    Column("run_id", String(32), nullable=False),
    Column("key", String(250), nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("value", Float(53), nullable=False),
    Column("is_nan", Boolean, nullable=False),
    Column("dataset_name", String(500)),
    Column("dataset_digest", String(36)),
    PrimaryKeyConstraint(
        "model_id",
        "key",
        "step",
        "timestamp",
        "run_id",
        "value",
        "is_nan",
        name="pk_logged_model_metrics",
    ),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
)

# The model registry. Children follow a rename through ON UPDATE CASCADE and
# go with their model (or version) through ON DELETE CASCADE.
registered_models = Table(
    "registered_models",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    Column("user_id", String(256)),
    Column("description", Text),
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column("name", String(256), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("name", "key", name="pk_registered_model_tags"),
    ForeignKeyConstraint(
        ["name"],
        ["registered_models.name"],
        ondelete="CASCADE",
        onupdate="CASCADE",
    ),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("name", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    Column("user_id", String(256)),
    Column("current_stage", String(20), nullable=False),
    Column("description", Text),
    Column("source", Text, nullable=False),
    Column("run_id", String(32)),
    Column("run_link", Text),
    Column("status", String(20), nullable=False),
    Column("status_message", Text),
    Column("model_id", String(64)),
    # Where the version's files are, resolved once at creation.
    Column("storage_location", Text),
    PrimaryKeyConstraint("name", "version", name="pk_model_versions"),
    ForeignKeyConstraint(
        ["name"],
        ["registered_models.name"],
        ondelete="CASCADE",
        onupdate="CASCADE",
    ),
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("name", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("name", "version", "key", name="pk_model_version_tags"),
    ForeignKeyConstraint(
        ["name", "version"],
        ["model_versions.name", "model_versions.version"],
        ondelete="CASCADE",
        onupdate="CASCADE",
    ),
)

registered_model_aliases = Table(
    "registered_model_aliases",
    metadata,
    Column("name", String(256), nullable=False),
    Column("alias", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("name", "alias", name="pk_registered_model_aliases"),
    ForeignKeyConstraint(
        ["name", "version"],
        ["model_versions.name", "model_versions.version"],
        ondelete="CASCADE",
        onupdate="CASCADE",
    ),
)

# Every move in the registry, for audit and rollback: ``kind`` is "alias"
# (``alias`` moved from ``previous_version`` to ``version``, NULL when it was
# removed) or "stage" (``version`` went from ``previous_stage`` to ``stage``).
registry_history = Table(
    "registry_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(256), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("alias", String(256)),
    Column("version", Integer),
    Column("previous_version", Integer),
    Column("stage", String(20)),
    Column("previous_stage", String(20)),
    Column("timestamp", BigInteger, nullable=False),
    Column("user_id", String(256)),
    Column("reason", Text),
    Index("ix_registry_history_name_kind_alias", "name", "kind", "alias", "id"),
    ForeignKeyConstraint(
        ["name"],
        ["registered_models.name"],
        ondelete="CASCADE",
        onupdate="CASCADE",
    ),
)

# The rule a version's source run must pass before ``alias`` may point at it;
# written in the search filter grammar (see kiln/registry/rules.py).
promotion_rules = Table(
    "promotion_rules",
    metadata,
    Column("name", String(256), nullable=False),
    Column("alias", String(256), nullable=False),
    Column("rule", Text, nullable=False),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    Column("user_id", String(256)),
    PrimaryKeyConstraint("name", "alias", name="pk_promotion_rules"),
    ForeignKeyConstraint(
        ["name"],
        ["registered_models.name"],
        ondelete="CASCADE",
        onupdate="CASCADE",
    ),
)
