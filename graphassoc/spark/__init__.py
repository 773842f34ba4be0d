"""Apache Spark path of build-graph: the same stages as DataFrame jobs, the same run directory.

Needs the optional extra `graphassoc[spark]` (pyspark) and Java 17+. Nothing here imports
pyspark at module level: `graphassoc --help` and the single-machine path never load it.
"""
