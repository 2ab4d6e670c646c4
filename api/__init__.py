"""HTTP: FastAPI routers that mirror the write side's actors (`window.py`, `review.py`,
`registrar.py`, `credit.py`), the staff's audit trail (`audit.py`), the applicant's progress (`applicant.py`, 办件查询:
number and code, no token) and the public's reads and scan page (`public.py`); request bodies (`schemas.py`), response models (`responses.py`), the
published contract (`contract.py`), problem documents, bearer tokens to actors (`auth.py`),
and the HTTP conditions (`conditions.py`) and read-model notices (`answers.py`) around them.

Each route parses, calls one command or view, and maps the result. Imports `licensing/`,
`projections/` (views) and `domain/`; nothing imports `api/` (the CLI starts it by name)."""
