"""Running the models on Apache Spark, over the same Parquet lake.

A :class:`SparkRunner` holds one Spark session: Spark Connect when ``remote`` names a server
(``sc://host:15002``), else a ``local[*]`` session in this process. For each model it

1. registers temp views for what the model reads: ``raw__<table>`` over the raw table's
   Hive-partitioned Parquet folder (one row per natural key, the newest version, as DuckDB's
   ``open_lake`` does), ``core__<name>``/``marts__<name>`` over the derived tables'
   ``lake/<layer>/<name>.parquet`` (or a day-partitioned folder ``lake/<layer>/<name>/``, see
   :func:`derived_table`), ``catalog__<relation>`` from the service catalog;
2. carries the model's DuckDB SQL to Spark SQL (:mod:`ops_warehouse.lake.spark_sql`);
3. writes the result as one Parquet file in a scratch folder and renames it over
   ``lake/<layer>/<name>.parquet``, so readers (the next model, ``publish``) see the old file or
   the new one, never half of one, and DuckDB's publish step reads it as it reads its own. A table
   stored as a folder of days (``<name>/day=YYYY-MM-DD/part-0.parquet``, files holding the table's
   columns and no ``day`` column) is written in that layout, one file per day of its key column.

Spark builds are full builds: the incremental planner works from DuckDB queries over the lake, so
on Spark every model is recomputed whole (``since`` is NULL). The build state is recorded as after
a full DuckDB build, so a later DuckDB build plans from it.

The Spark session must see the data home at the same path (the same machine, or a shared mount
for a Spark Connect server). pyspark is the optional extra ``spark``: nothing here imports it
until a session is opened.
"""

from __future__ import annotations

import os
import shutil
import uuid
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ops_warehouse.catalog import Catalog
from ops_warehouse.fileio import replace_folder, replace_with
from ops_warehouse.home import DataHome
from ops_warehouse.lake.duck_types import spark_type
from ops_warehouse.lake.spark_sql import CsvRead, to_spark, view_name
from ops_warehouse.lake.store import PART, Lake, derived_location, is_derived
from ops_warehouse.tables import INGEST_LOG, RAW_TABLES, REJECTED_ROWS, RawTable

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Settings every session gets: UTC like DuckDB's connection; Parquet timestamps as the lake's
# (INT64 microseconds, UTC-adjusted), never INT96; ANSI off so a division by zero or a bad cast
# is NULL as in DuckDB... and DuckDB's default NULL ordering is made explicit by sqlglot.
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.compression.codec": "zstd",
    "spark.sql.ansi.enabled": "false",
}
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": os.environ.get("OPS_WAREHOUSE_SPARK_SHUFFLE_PARTITIONS", "4"),
    "spark.driver.memory": os.environ.get("OPS_WAREHOUSE_SPARK_DRIVER_MEMORY", "2g"),
    "spark.sql.catalogImplementation": "in-memory",
    "spark.sql.adaptive.enabled": "true",
    # a raw table has a folder per day: list them in the driver, not with a Spark job per read
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
}


def derived_table(home: DataHome, layer: str, name: str) -> Path:
    """Where a core or mart table is stored (see :func:`ops_warehouse.lake.store.derived_location`)."""
    return derived_location(home.lake, layer, name)


def slo_constants() -> dict[str, pa.Table]:
    """``catalog.slo_<name>`` relations from ``assets/slo/<name>.csv``, read as ``open_lake`` reads them."""
    from ops_warehouse.duck import connect, quote_literal
    from ops_warehouse.lake.models import assets_dir

    con = connect()
    try:
        return {
            f"slo_{f.stem}": con.sql(
                f"SELECT * FROM read_csv({quote_literal(str(f))}, header = true, comment = '#')"
            ).to_arrow_table()
            for f in sorted((assets_dir() / "slo").glob("*.csv"))
        }
    finally:
        con.close()


class SparkUnavailable(RuntimeError):
    """pyspark (the ``spark`` extra) or Java is missing."""


def open_session(remote: str | None = None, master: str | None = None) -> SparkSession:
    """A Spark session: Spark Connect at ``remote``, else ``master`` (default ``local[*]``)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkUnavailable("the Spark engine needs pyspark: pip install 'ops-warehouse[spark]'") from exc
    # ``remote="local[N]"`` starts a Spark Connect server (port 15002) in this process: it needs
    # Java, and gets the settings of a local session
    local = not remote or remote.startswith("local")
    if local and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise SparkUnavailable("the Spark engine needs Java 17 (Debian: openjdk-17-jre-headless)")
    conf: dict[str, str] = dict(LOCAL_CONF) if local else {}
    if remote:
        builder = SparkSession.builder.remote(remote)
    else:
        builder = SparkSession.builder.master(master or "local[*]").appName("ops-warehouse")
    for key, value in conf.items():
        builder = builder.config(key, value)
    with warnings.catch_warnings():
        # a local Connect server starts with every setting; the client then sets them again on its
        # session, where the ones fixed at start (the UI, the driver's memory) only warn
        warnings.filterwarnings("ignore", message=r".*CANNOT_MODIFY_(STATIC_)?CONFIG", category=UserWarning)
        session = builder.getOrCreate()
    if not remote:
        session.sparkContext.setLogLevel(os.environ.get("OPS_WAREHOUSE_SPARK_LOG_LEVEL", "ERROR"))
    for key, value in SESSION_CONF.items():
        session.conf.set(key, value)
    return session


_SESSIONS: dict[tuple[str | None, str | None], SparkSession] = {}


def shared_session(remote: str | None = None, master: str | None = None) -> SparkSession:
    """One session per process and configuration (a local one takes seconds to start)."""
    key = (remote, None if remote else master or "local[*]")
    session = _SESSIONS.get(key)
    if session is None:
        session = _SESSIONS[key] = open_session(remote, master)
    return session


class SparkRunner:
    """Runs model SQL on one Spark session over a data home's lake."""

    def __init__(self, session: SparkSession) -> None:
        self.spark = session

    # ------------------------------------------------------------------ inputs

    def _raw_frame(self, lake: Lake, table: RawTable) -> DataFrame:
        """The raw table's columns in order and type; columns a file lacks read as NULL."""
        cols = ", ".join(f"CAST(NULL AS {spark_type(c.type)}) AS `{c.name}`" for c in table.columns)
        empty = self.spark.sql(f"SELECT {cols} WHERE false")
        if not lake.files(table):
            return empty
        folder = lake.table_dir(table)
        # Hive-partitioned folders (day=YYYY-MM-DD/part-0.parquet): Spark lists and reads them
        # itself. The table's own schema is given, so no file footer is read to infer one, and a
        # column a file lacks (written before the column existed) reads as NULL.
        ddl = ", ".join(f"`{c.name}` {spark_type(c.type)}" for c in table.columns)
        frame = self.spark.read.schema(ddl).parquet(str(folder))
        return frame.select(*table.column_names)

    def _register_raw(self, home: DataHome, relation: str) -> None:
        from ops_warehouse.lake.models import _latest_per_key

        lake = Lake(home)
        schema, name = relation.split(".", 1)
        if relation == "quarantine.rejected_rows":
            table = REJECTED_ROWS
        elif relation == "raw.ingest_log":
            table = INGEST_LOG
        elif schema == "raw" and name in RAW_TABLES:
            table = RAW_TABLES[name]
        else:
            raise KeyError(f"no raw relation {relation}")
        scan_view = f"_scan__{name}"
        self._raw_frame(lake, table).createOrReplaceTempView(scan_view)
        select = _latest_per_key(table, f"SELECT * FROM {scan_view}")
        if select.startswith("SELECT * FROM (SELECT * FROM"):
            cols = ", ".join(f'"{c}"' for c in table.column_names)
            select = f"SELECT {cols} FROM ({select})"
        sql = to_spark(select, variables={})
        self.spark.sql(sql).createOrReplaceTempView(view_name(schema, name))

    def _register_derived(self, home: DataHome, relation: str) -> None:
        layer, name = relation.split(".", 1)
        path = derived_table(home, layer, name)
        if not path.exists():
            raise FileNotFoundError(f"{relation} has not been built yet ({path})")
        reader = self.spark.read
        if path.is_dir():
            # the day folders' files hold every column: no day column is inferred from the names
            reader = reader.option("recursiveFileLookup", "true").option("pathGlobFilter", "*.parquet")
        reader.parquet(str(path)).createOrReplaceTempView(view_name(layer, name))

    def _register_catalog(self, catalog: Catalog) -> None:
        from pyspark.sql.types import StringType, StructField, StructType

        for name, (columns, rows) in catalog.tables().items():
            schema = StructType([StructField(c, StringType(), True) for c in columns])
            data = [tuple(None if v is None else str(v) for v in r) for r in rows]
            self.spark.createDataFrame(data, schema).createOrReplaceTempView(view_name("catalog", name))
        # the SLO engine's constants as data (assets/slo/<name>.csv), typed as DuckDB reads them
        for name, table in slo_constants().items():
            self.spark.createDataFrame(table).createOrReplaceTempView(view_name("catalog", name))

    def _register_csv(self, read: CsvRead) -> None:
        reader = self.spark.read.option("header", str(bool(read.options.get("header", True))).lower())
        if read.options.get("comment"):
            reader = reader.option("comment", str(read.options["comment"]))
        # all_varchar: Spark's CSV reader reads every column as a string unless asked to infer
        reader.csv(read.path).createOrReplaceTempView(read.view)

    # ------------------------------------------------------------------ running

    def run(
        self,
        home: DataHome,
        sql: str,
        deps: set[str],
        target: Path,
        catalog: Catalog,
        variables: dict[str, Any],
        *,
        day_column: str | None = None,
    ) -> int:
        """Run one model's DuckDB SQL on Spark and write it to ``target`` atomically; returns rows.
        With ``day_column``, ``target`` is a folder of one file per day of that column."""
        reads: list[CsvRead] = []
        spark_sql = to_spark(sql, variables=variables, csv_reads=reads)
        for dep in sorted(deps):
            if is_derived(dep):
                self._register_derived(home, dep)
            else:
                self._register_raw(home, dep)
        self._register_catalog(catalog)
        for read in reads:
            self._register_csv(read)
        frame = self.spark.sql(spark_sql)
        if day_column is not None:
            return self._write_days(home, frame, target, day_column)
        return self._write(home, frame, target)

    def _write(self, home: DataHome, frame: DataFrame, target: Path) -> int:
        """One Parquet file renamed over ``target`` (Spark writes a folder of part files: one
        partition gives one part file, which is moved into place)."""
        home.tmp.mkdir(parents=True, exist_ok=True)
        scratch = home.tmp / f"spark-{target.stem}-{uuid.uuid4().hex}"
        try:
            frame.coalesce(1).write.mode("overwrite").parquet(str(scratch))
            parts = sorted(scratch.glob("part-*.parquet"))
            if len(parts) != 1:
                raise RuntimeError(f"Spark wrote {len(parts)} part files for {target.name}, expected one")
            replace_with(parts[0], target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return _parquet_rows(target)

    def _write_days(self, home: DataHome, frame: DataFrame, target: Path, day_column: str) -> int:
        """``target/day=YYYY-MM-DD/part-0.parquet``, one file per UTC day of ``day_column``, each
        holding the table's columns (no ``day`` column). The folder is built in scratch and swapped
        in by two renames; the old folder is removed after."""
        from pyspark.sql import functions as F

        home.tmp.mkdir(parents=True, exist_ok=True)
        scratch = home.tmp / f"spark-{target.name}-{uuid.uuid4().hex}"
        built = home.tmp / f"spark-{target.name}-{uuid.uuid4().hex}.days"
        tag = "_ow_day"  # not "day": a table may have a column of that name, which must stay in its files
        try:
            days = frame.withColumn(tag, F.to_date(F.col(day_column)))
            days.repartition(tag).write.mode("overwrite").partitionBy(tag).parquet(str(scratch))
            built.mkdir()
            rows = 0
            for folder in sorted(scratch.glob(f"{tag}=*")):
                parts = sorted(folder.glob("part-*.parquet"))
                if len(parts) != 1:
                    raise RuntimeError(f"Spark wrote {len(parts)} part files for {folder.name}, expected one")
                day_file = built / f"day={folder.name.split('=', 1)[1]}" / PART
                replace_with(parts[0], day_file)
                rows += _parquet_rows(day_file)
            if rows == 0:  # an empty table keeps its columns: one file of no rows
                self._write(home, frame.limit(0), built / "empty.parquet")
            replace_folder(built, target, home.tmp)
        finally:
            for leftover in (scratch, built):
                shutil.rmtree(leftover, ignore_errors=True)
        return rows

    def stop(self) -> None:
        self.spark.stop()


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)
