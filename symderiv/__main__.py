"""``python -m symderiv`` runs the command line."""

from symderiv.cli import main

if __name__ == "__main__":
    main()
