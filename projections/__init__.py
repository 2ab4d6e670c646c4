"""The read side: the read model built from the events (the departments' feeds among its
tables, `feed.py`) and the projector that keeps it, the
licence as of any past instant (the same handlers replayed in memory), the audit trail, and
every view the API serves, including the one function that words a permit's public status
(`views.permit_status`) and the one that gives the verdict the scan page and the signed status
document share (`views.present_licence`: may the business operate, and in what).

Imports only `domain/`, `eventsourcing` and the standard library (and psycopg, for the
PostgreSQL read model). Imported by `api/` (views, as-of, audit trail) and, in `licensing/`,
only by `licensing/runtime.py`, the composition root that wires the read side to the write
side; the catalogue's names reach the views through the `views.Names` protocol."""
