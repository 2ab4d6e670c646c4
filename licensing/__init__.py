"""The application: the write side and what runs it.

- Commands, by who acts: `window.py` (the clerk), `review.py` (a department), `registrar.py`,
  `credit.py` (the credit office), `jobs.py` (the date-driven jobs); each handler is
  load → act → save in one unit of work (`unit_of_work.py`), retried on a concurrent change,
  with the request's conditions (`conditions.py`: idempotency key, If-Match).
- The event store (`store.py`; every state encrypted by `cipher.py`), the document store of
  material files, checked by content (`documents.py`), the catalogue as data (`catalogue.py`,
  `data/`: materials too; the business scope's terms to permits, 明确告知, in `scope.py` and
  `data/scope_terms.yaml`), the
  working-day calendar, signing keys and tokens (`keys.py`, `signing.py`), QR images,
  settings, the outbox and its channels (`outbox.py`, `delivery.py`), the departments'
  webhooks (`webhooks.py`: registry, signature, the ordered push of their feeds); the log's
  set-up (`logs.py`: JSON or readable lines, written off the caller's thread) and the
  metrics (`metrics.py`: counters where the work is done, gauges measured when scraped).
- The composition root (`runtime.py`) and what operates on it: the CLI, backup and restore,
  start-up locks, the demo.

Imports `domain/`; only the composition root (`runtime.py`, and `backup.py`, which builds a
check copy of the read model) imports `projections/`. Never imports `api/`. Imported by `api/`."""
