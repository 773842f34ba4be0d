"""Mining engine `spark`: frequent itemsets by pyspark.ml.fpm.FPGrowth, exactly fim's.

FPGrowth keeps the itemsets of count >= ceil(minSupport * n) (org.apache.spark.mllib.fpm.FPGrowth:
`math.ceil(minSupport * count)`), which is not the package's threshold (the smallest count c with
c / n >= min_support in floating point, mlxtend's test; see graphassoc.mining.engines). So FPGrowth
is handed minSupport = (min_count - 0.5) / n, whose product with n rounds up to min_count exactly,
and it finds the same itemsets with the same counts. Its association rules are not used: the
mining stage generates mlxtend's rules from the itemsets with the package's measures.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphassoc.mining.encode import EncodedBaskets
from graphassoc.mining.engines import EngineOutput, EngineParams, FoundItemsets
from graphassoc.spark.session import spark_session


def fpgrowth_support(min_count: int, n: int) -> float:
    """The minSupport whose ceil(minSupport * n) is min_count (exact for any n below 2^50)."""
    return (min_count - 0.5) / n


def spark_fpgrowth(enc: EncodedBaskets, params: EngineParams) -> EngineOutput:
    """FPGrowth on the active Spark session (or a local one for this call)."""
    from pyspark.ml.fpm import FPGrowth
    from pyspark.sql import functions as F

    # Items below the count threshold cannot be in a frequent itemset: dropping them (and the
    # baskets left empty) changes no count and shrinks what is shipped to Spark. n stays the
    # number of baskets handed over, which is what FPGrowth's minSupport is relative to.
    keep = enc.item_counts() >= params.min_count
    tracts = enc.lists(keep)
    empty = FoundItemsets(np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.int64))
    if not tracts:
        return EngineOutput(empty, None)
    with spark_session() as spark:
        baskets = spark.createDataFrame(pa.table({"items": pa.array(tracts, type=pa.list_(pa.int32()))}))
        model = FPGrowth(itemsCol="items", minSupport=fpgrowth_support(params.min_count, len(tracts))).fit(baskets)
        found = model.freqItemsets
        if params.max_len:
            found = found.filter(F.size("items") <= params.max_len)
        table = found.toArrow()
    if table.num_rows == 0:
        return EngineOutput(empty, None)
    items = table.column("items").combine_chunks()
    return EngineOutput(FoundItemsets(
        flat=pc.list_flatten(items).to_numpy(zero_copy_only=False).astype(np.int32),
        lengths=pc.list_value_length(items).to_numpy(zero_copy_only=False).astype(np.int64),
        counts=table.column("freq").to_numpy().astype(np.int64),
    ), None)
