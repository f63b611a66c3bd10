"""OpenLineage for meshc runs: dataset names that link, facets, run events, and their delivery.

    naming.py     the (namespace, name) of every dataset a run reads or writes: the OpenLineage
                  naming of a local file, so a producer's output and its consumer's input are the
                  same dataset (no openlineage import)
    facets.py     schema, data-quality assertions and metrics, output statistics, error message
    events.py     the START, COMPLETE and FAIL RunEvents of one run
    transport.py  where events go: the per-run file (always), and an openlineage-python client when
                  a transport is configured (mesh.yaml `openlineage:`, OPENLINEAGE_URL,
                  OPENLINEAGE_CONFIG / openlineage.yml, OPENLINEAGE__TRANSPORT__*)

Everything but naming.py imports openlineage-python, and only runs that write lineage import them.
"""
