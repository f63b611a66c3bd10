"""Where data lives beyond local files: objects in a bucket, Delta tables, database tables.

The engines read and write local files; this layer brings other storage to them and takes their
files back out (docs/storage.md):

    location.py   the typed Location every source and target is (pure, used by `meshc check`)
    support.py    which engine reaches which storage, and what to install or configure otherwise
    spool.py      the private folder where fetched sources and staged outputs wait
    sources.py    a Location -> local files an engine reads (fetched objects, a Delta version
                  exported as Parquet, a database query streamed to Parquet)
    publish.py    staged output files -> their targets, at commit time: one transaction per
                  database, one Delta commit per table (restored if a later one fails), one
                  complete PUT per object
    objects.py, delta.py, database.py   one module per kind of storage
"""
