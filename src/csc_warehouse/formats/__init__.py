"""Adapters between the formats councils hold (the DfE's statutory returns, the Standard Safeguarding
Dataset, Ofsted's Annex A) and the canonical case-event format (case-events v1), both ways.

One module, one job:

``common``       what every adapter shares: refusing a file, quarantined rows, dates, CSV and XML reading.
``xmltree``      a small XML reader that keeps line numbers and refuses DTDs and entities.
``codes``        the SSDA903 and CIN census code lists, by collection year where they changed.
``anonymise``    keyed pseudonyms for child and worker ids, month of birth.
``ssda903``      read an SSDA903 return (the CSV set or the XML) into checked tables.
``repair``       stitch several years' SSDA903 episodes into one history (later return wins).
``ssda903_events``  turn the stitched SSDA903 tables into canonical children and events.
``cin_census``   read CIN census XML into checked tables and turn them into canonical children and events.
``canonical``    versions across returns, and writing the canonical files and the import quarantine file.
``imports``      the SSDA903 and CIN census imports end to end (what ``cscw import`` runs).
``ssd_tables``   the SSD tables and codes used; ``ssd`` reads SSD extracts (``cscw import ssd``) and
                 ``ssd_write`` writes canonical events as an extract (for the round trips).
``annex_a_layout``  Ofsted's Annex A sheets, headers and coded values; ``annex_a`` builds and writes
                 the lists (``cscw returns annex-a``); ``annex_a_import`` reads them back
                 (``cscw import annex-a``).
``returns_source``  what the writers read: one authority's children, events and episodes, from the
                 warehouse or a canonical folder.
``returns_cin_census``, ``returns_ssda903``  the DfE returns of a year, with that year's elements
                 and codes (``cscw returns cin-census`` / ``ssda903``).
``export``       canonical files -> both returns for every year (the importers' round trips).
``reference_specs``  the public schemas and code lists the tests check the writers against.

The rules each module applies are in its docstring, docs/importing.md and README "Loading your
council's data".
"""
