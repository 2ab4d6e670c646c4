"""The licensing domain: the aggregates (registration, permit, bundle application, credit
record, delivery, signing keys, access log, the business's archive of material files),
their declared events and typed payloads, and the rules that are ours — what acceptance does
(`acceptance.py`), the text every field may hold (`text.py`), USCC check characters, days in
China. No I/O, no clock, no catalogue.

Imports only `eventsourcing.domain` and the standard library. Imported by every other package."""
