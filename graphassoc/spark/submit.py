"""The file to hand spark-submit, which runs .py files rather than console scripts:

    spark-submit --master yarn $(python -c "import graphassoc.spark.submit as m; print(m.__file__)") \\
        build-graph -t hdfs://... --out runs/x --set spark.data_jobs=true

Its arguments are graphassoc's; the session spark-submit configured (master, conf) is the one used.
"""

from graphassoc.cli.main import main

if __name__ == "__main__":
    main()
