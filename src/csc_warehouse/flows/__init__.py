"""The Prefect flows (monthly refresh, backfill) and what runs them: inside the package, so an installed
`cscw` works from any folder. `flows/*.py` at the project root are thin entry points for prefect.yaml.

Importing this package does not import Prefect: `server` and `console` are cheap to import.
"""
