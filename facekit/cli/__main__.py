"""``python -m facekit.cli``: the ``facekit`` command."""

from facekit.cli import main

if __name__ == "__main__":
    main()
