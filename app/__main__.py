"""`python -m app` is the same CLI as `mlfi`."""

from app.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
