"""Adapters between the DfE's statutory returns and the canonical case-event format (case-events v1).

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
``imports``      the two imports end to end (what ``cscw import`` runs).
``export``       the other way: canonical events written as SSDA903 CSVs and CIN census XML.

The rules each module applies are in its docstring and in docs/importing.md.
"""
