"""ODCS v3 (the Open Data Contract Standard) in and out of meshc contracts.

    detect.py     recognise an ODCS file cheaply (`meshc check` says MC009 instead of 11 MC101s)
    mapping.py    the tables: types, severities, units; the report of what did not map
    document.py   read an ODCS file (located) and validate it against the standard's JSON Schema
    queries.py    meshc rules <-> ODCS `type: sql` quality queries (built and read with sqlglot)
    to_odcs.py    meshc contract -> ODCS document
    from_odcs.py  ODCS document -> meshc contract (from_quality.py: its quality rules)

What ODCS has no place for is kept, in meshc's own shape, in `customProperties` under the
property `meshc`, so meshc -> ODCS -> meshc is lossless; what meshc has no place for is reported
as `not mapped: <path> (<why>)`, never dropped silently. Importing this package is cheap: the ODCS
package (`pip install 'meshc[odcs]'`) is imported only to validate documents.
"""
