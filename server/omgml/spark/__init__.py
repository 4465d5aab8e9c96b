"""The Spark engine: the local engine's mergeable summaries computed per partition, merged on the driver.

pyspark is the optional extra ``omgml[spark]``; nothing here is imported until a call asks for the engine.
"""
