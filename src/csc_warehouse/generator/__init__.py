"""Synthetic case events for the local authorities of a profile, in the canonical input contract
(case-events v1).

The generator simulates the front door to child protection (contacts, referrals, assessments, S47
enquiries and ICPCs, CIN plans and CP plans) and children looked after (periods of care, legal statuses,
placements, UASC, short breaks, reviews, visits, health, missing episodes, adoption and care leavers).
Each authority's rates come from its profile (``csc_warehouse.profile.GeneratorSettings``, defaults: a
large, low-demand shire county, kpi-catalogue 2.1) and volumes scale with its population. Authorities
are simulated one at a time, each from its own random stream, and streamed to one file per table.

One module per job, stage by stage (``run.generate_authority`` calls them in this order):

- ``constants``: the calibration every authority shares; ``context``, ``draws``, ``people``,
  ``event_buffer``: the run's context, random draws, children and the event columns;
- ``population``: the denominators table;
- ``referrals``: one row per referral with every date of its journey, as chains of referrals per child;
- ``looked_after`` (with ``cla_entries``, ``short_breaks``, ``placements``, ``adoption``, ``cla_practice``,
  ``care_leavers``): periods of care and everything that hangs off them;
- ``front_door_events`` (with ``child_protection``, ``visits``): the journeys and the other contacts as
  events;
- ``recording``: recording lags, event ids, corrected versions and tombstones;
- ``children``: one row per child in the events;
- ``added_events`` (with ``case_view``, ``reviews``, ``initial_health``, ``early_help``,
  ``allocations``): events simulated last from the case as recorded, each purpose from a random stream
  of its own, so they leave every earlier row as it was (the plain reviews are replaced by chains);
- ``writer``: the files; ``fault_rows``: the bad rows written on request (``--faults``);
- ``measured``: the v2 rates counted straight from events, for calibration.

Everything is vectorised with numpy: Python loops run over stages, chain positions and code lists only,
never over events. Dates are held as int64 days since 1970-01-01 and timestamps as int64 seconds.
"""

from csc_warehouse.generator.run import GenerateSummary, generate

__all__ = ["GenerateSummary", "generate"]
