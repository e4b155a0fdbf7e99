"""The analyze stages on Apache Spark (PySpark): the same stage functions, run inside `mapPartitions`.

pyspark is the optional `spark` extra; nothing here is imported by the rest of the package. Entry point:
`run_spark(source, out_dir, stages=...)` (see `newstrace.spark.run`).
"""

from newstrace.spark.run import SparkRunResult, local_session, run_spark

__all__ = ["SparkRunResult", "local_session", "run_spark"]
